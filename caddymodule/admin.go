package caddymodule

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/forward"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves the module's routes on Caddy's admin endpoint (never on
// the site's listeners): GET /amazon_capi/ (the state of each destination),
// GET /amazon_capi/dead_letter (dead-lettered events, hashed keys only) and
// POST /amazon_capi/replay (queue dead-lettered events again). Caddy loads
// it by itself with the admin endpoint.
type AdminAPI struct{}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.amazon_capi",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Routes returns the admin routes.
func (AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/amazon_capi/", Handler: caddy.AdminHandlerFunc(serveAdmin)},
	}
}

// DestinationStatus is one destination as GET /amazon_capi/ shows it.
type DestinationStatus struct {
	// Destination is account_id@host.
	Destination string `json:"destination"`
	// API is v2 or v1.
	API string `json:"api"`
	// DryRun is set when the destination sends nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// Matched counts requests an event matched.
	Matched uint64 `json:"matched"`
	// Invalid counts matched requests that gave no event.
	Invalid uint64 `json:"invalid"`
	// InvalidBy counts them by event, field and reason, most first.
	InvalidBy []InvalidCount `json:"invalid_by"`
	// Queued counts events accepted for sending.
	Queued uint64 `json:"queued"`
	// Deduped counts events whose ID was seen within the dedupe window.
	Deduped uint64 `json:"deduped"`
	// Dropped counts events not kept: intake or spool full, or a stopped
	// destination could not hand them over.
	Dropped uint64 `json:"dropped"`
	// Forwarder is the delivery state (absent in a dry run).
	Forwarder *ForwarderStatus `json:"forwarder,omitempty"`
	// OldestEventAgeSeconds is how long the oldest unsent event has waited.
	OldestEventAgeSeconds float64 `json:"oldest_event_age_seconds"`
	// TokenExpiry is when the cached access token expires (absent: none
	// yet, or a static token).
	TokenExpiry time.Time `json:"token_expiry,omitzero"`
	// BatchSize is the live batch size.
	BatchSize int `json:"batch_size,omitempty"`
	// FlushInterval is the live flush interval.
	FlushInterval string `json:"flush_interval,omitempty"`
	// SpoolMaxSize is the live spool_max_size, in bytes.
	SpoolMaxSize int64 `json:"spool_max_size,omitempty"`
	// SpoolSync is the live spool_sync: a duration, or "always".
	SpoolSync string `json:"spool_sync,omitempty"`
	// DedupeWindow is the live dedupe_window: a duration, or "off".
	DedupeWindow string `json:"dedupe_window,omitempty"`
	// Spool is the spool's directory: its segment files (*.log), and the
	// original bytes of a repaired one (*.log.damaged).
	Spool string `json:"spool,omitempty"`
	// Fleet is the destination's part in the fleet (absent without the
	// nats option).
	Fleet *FleetStatus `json:"fleet,omitempty"`
}

// ForwarderStatus is a destination's delivery state, as the admin API
// shows it (see forward.Stats for each figure; queued, deduped and dropped
// are the destination's).
type ForwarderStatus struct {
	// Sent counts events Amazon accepted.
	Sent uint64 `json:"sent"`
	// Rejected counts events Amazon refused, or too old to send.
	Rejected uint64 `json:"rejected"`
	// Replayed counts dead-lettered events queued again.
	Replayed uint64 `json:"replayed"`
	// Panics counts panics recovered while sending.
	Panics uint64 `json:"panics"`
	// Batches counts calls to Amazon, retries included.
	Batches uint64 `json:"batches"`
	// QueueDepth is the number of events waiting, in memory and spooled.
	QueueDepth int `json:"queue_depth"`
	// Spooled is the number of events in the spool.
	Spooled int `json:"spooled"`
	// SpoolBytes is the spooled events' encoded size.
	SpoolBytes int64 `json:"spool_bytes"`
	// Oldest is when the oldest spooled event was spooled (absent: none).
	Oldest time.Time `json:"oldest,omitzero"`
	// LastSuccess is when Amazon last took a batch (absent: never).
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is the last failed call: Amazon's status, code and
	// message, or the transport error (absent: none).
	LastError string `json:"last_error,omitempty"`
	// LastErrorAt is when that call failed (absent: never).
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LastErrorPast is set when Amazon took a batch after the last error:
	// the error is history, not the state now.
	LastErrorPast bool `json:"last_error_past,omitempty"`
	// SpoolSyncFailures counts the spool's periodic fsyncs that failed
	// since the destination started; any means the disk needs checking
	// (see forward.Stats.SyncFailures).
	SpoolSyncFailures uint64 `json:"spool_sync_failures"`
	// SpoolLostEvents counts, by reason (damaged_frame, torn_tail), the
	// events found lost in a damaged stretch of the spool when it was
	// opened (see forward.Damage); each stretch is in the log at error
	// level, with its segment and offset.
	SpoolLostEvents map[string]uint64 `json:"spool_lost_events"`
}

func forwarderStatus(st forward.Stats) *ForwarderStatus {
	return &ForwarderStatus{
		Sent: st.Sent, Rejected: st.Rejected,
		Replayed: st.Replayed, Panics: st.Panics, Batches: st.Batches, QueueDepth: st.QueueDepth,
		Spooled: st.Spooled, SpoolBytes: st.SpoolBytes, Oldest: st.Oldest, LastSuccess: st.LastSuccess,
		LastError: st.LastError, LastErrorAt: st.LastErrorAt, SpoolSyncFailures: st.SyncFailures,
		LastErrorPast:   st.LastError != "" && st.LastSuccess.After(st.LastErrorAt),
		SpoolLostEvents: map[string]uint64{forward.LostDamagedFrame: st.LostDamagedFrame, forward.LostTornTail: st.LostTornTail},
	}
}

// adminRoutes are the module's admin routes and the method each takes.
var adminRoutes = map[string]string{
	"/amazon_capi/":               http.MethodGet,
	"/amazon_capi/dead_letter":    http.MethodGet,
	"/amazon_capi/replay":         http.MethodPost,
	"/amazon_capi/quality":        http.MethodGet,
	"/amazon_capi/reconciliation": http.MethodGet,
	"/amazon_capi/status":         http.MethodGet,
}

func serveAdmin(w http.ResponseWriter, r *http.Request) error {
	method, ok := adminRoutes[r.URL.Path]
	switch {
	case !ok:
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Message: "amazon_capi admin routes: GET /amazon_capi/, GET /amazon_capi/quality, GET /amazon_capi/reconciliation, GET /amazon_capi/status (HTML), GET /amazon_capi/dead_letter, POST /amazon_capi/replay"}
	case r.Method != method:
		w.Header().Set("Allow", method)
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Message: r.URL.Path + " takes " + method}
	}
	switch r.URL.Path {
	case "/amazon_capi/quality":
		return writeAdminJSON(w, qualityReport())
	case "/amazon_capi/reconciliation":
		return writeAdminJSON(w, reconciliationReport())
	case "/amazon_capi/status":
		return serveStatusPage(w)
	case "/amazon_capi/dead_letter":
		return writeAdminJSON(w, deadLetters())
	case "/amazon_capi/replay":
		return replay(w)
	}
	return writeAdminJSON(w, statuses())
}

func liveDestinations() []*liveDestination {
	var out []*liveDestination
	destinations.Range(func(_, v any) bool {
		out = append(out, v.(*liveDestination))
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].settings.label() < out[j].settings.label() })
	return out
}

func statuses() []DestinationStatus {
	out := []DestinationStatus{}
	for _, d := range liveDestinations() {
		out = append(out, d.status())
	}
	return out
}

func (d *liveDestination) status() DestinationStatus {
	t := d.confirmations.totals()
	st := DestinationStatus{
		Destination: d.settings.label(), API: string(d.settings.api), DryRun: d.settings.dryRun,
		Matched: t.matched, Invalid: t.invalid, Dropped: t.lost, InvalidBy: d.confirmations.invalidCounts(),
	}
	if d.forwarder == nil {
		return st
	}
	fs := d.forwarder.Stats()
	st.Queued, st.Deduped, st.Dropped = fs.Queued, fs.Deduped, st.Dropped+fs.Dropped
	st.Forwarder = forwarderStatus(fs)
	if !fs.Oldest.IsZero() {
		st.OldestEventAgeSeconds = time.Since(fs.Oldest).Seconds()
	}
	live := d.forwarder.Settings()
	st.BatchSize, st.FlushInterval, st.Spool = live.BatchSize, live.FlushInterval.String(), d.settings.spoolDir()
	st.SpoolMaxSize = live.SpoolMaxBytes
	st.SpoolSync, st.DedupeWindow = durationOr(live.SpoolSync, "always"), durationOr(live.DedupeWindow, "off")
	if d.fleet != nil { // the forwarder ships at its own pace; flush_interval paces the pulls from the stream
		st.FlushInterval = d.fleet.spec.FlushInterval.String()
		if d.fleet.spec.FlushInterval <= 0 {
			st.FlushInterval = time.Second.String()
		}
	}
	if c := d.client.Load(); c != nil {
		if e, ok := c.Tokens.(interface{ Expiry() time.Time }); ok {
			st.TokenExpiry = e.Expiry()
		}
	}
	if d.fleet != nil {
		st.Fleet = d.fleet.status()
	}
	return st
}

// DestinationQuality is one destination's match quality, as GET
// /amazon_capi/quality shows it.
type DestinationQuality struct {
	// Destination is account_id@host.
	Destination string `json:"destination"`
	// CoverageFormula says how coverage_score is counted.
	CoverageFormula string `json:"coverage_formula"`
	// Events are the figures per event name, most events first.
	Events []EventQuality `json:"events"`
}

// coverageFormula is the coverage score's definition, shown with it.
const coverageFormula = "share of events with an EMAIL or PHONE match key or an Amazon click token"

func qualityReport() []DestinationQuality {
	out := []DestinationQuality{}
	for _, d := range liveDestinations() {
		out = append(out, DestinationQuality{Destination: d.settings.label(), CoverageFormula: coverageFormula, Events: d.quality.report()})
	}
	return out
}

// DestinationReconciliation is one destination's reconciliation, as GET
// /amazon_capi/reconciliation shows it.
type DestinationReconciliation struct {
	// Destination is account_id@host.
	Destination string `json:"destination"`
	// Events are the rows per event name.
	Events []Reconciliation `json:"events"`
}

func reconciliationReport() []DestinationReconciliation {
	out := []DestinationReconciliation{}
	for _, d := range liveDestinations() {
		out = append(out, DestinationReconciliation{Destination: d.settings.label(), Events: d.reconcile()})
	}
	return out
}

func deadLetters() map[string][]forward.Letter {
	out := map[string][]forward.Letter{}
	for _, d := range liveDestinations() {
		if d.deadLetter == nil {
			continue
		}
		letters, err := d.deadLetter.List(1000)
		if err != nil {
			d.logger.Error("reading the dead letter", zap.Error(err))
		}
		if d.fleet != nil {
			letters = append(letters, d.fleet.deadLetters(1000)...)
		}
		if letters == nil {
			letters = []forward.Letter{}
		}
		out[d.settings.label()] = letters
	}
	return out
}

// replay queues every destination's dead letter again; a destination that
// fails does not keep the others from being replayed, and is reported.
func replay(w http.ResponseWriter) error {
	out, failed := map[string]int{}, map[string]string{}
	for _, d := range liveDestinations() {
		if d.forwarder == nil {
			continue
		}
		n, err := d.forwarder.Replay()
		if d.fleet != nil && err == nil {
			var m int
			m, err = d.fleet.replay()
			n += m
		}
		out[d.settings.label()] = n
		if err != nil {
			failed[d.settings.label()] = err.Error()
		}
	}
	if len(failed) > 0 {
		w.WriteHeader(http.StatusInternalServerError)
		return writeAdminJSON(w, map[string]any{"replayed": out, "errors": failed})
	}
	return writeAdminJSON(w, map[string]any{"replayed": out})
}

func writeAdminJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

// Interface guard
var _ caddy.AdminRouter = AdminAPI{}

// durationOr writes a positive duration, or word for a negative one (an
// option's "always" or "off").
func durationOr(d time.Duration, word string) string {
	if d < 0 {
		return word
	}
	return d.String()
}
