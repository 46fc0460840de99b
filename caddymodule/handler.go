package caddymodule

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

func init() {
	caddy.RegisterModule(Handler{})
	httpcaddyfile.RegisterHandlerDirective("amazon_capi", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("amazon_capi", httpcaddyfile.Before, "invoke")
}

// Handler watches the requests its events select and forwards a conversion
// event to Amazon's Conversions API for each, in the background. The request
// goes on to the next handler unchanged and never waits for Amazon.
type Handler struct {
	Destination

	// Events are the conversions to extract. Several may match one request;
	// each matching event produces one conversion.
	Events []*Event `json:"events,omitempty"`

	// ClickToken, when set, keeps Amazon's click token (aref) of a landing
	// request in a first-party cookie and sends it with every event
	// (Caddyfile: click_token [<cookie>] { max_age …; ad_storage … }).
	ClickToken *ClickToken `json:"click_token,omitempty"`

	dest            *liveDestination
	maxBody         int64
	maxResponseBody int64
	logger          *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.amazon_capi",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision compiles the events and attaches the handler to its
// destination's forwarder, which outlives config reloads. It does no
// network I/O.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if err := h.Validate(); err != nil { // Caddy validates after provisioning: check before anything is opened
		return err
	}
	if !h.NoMetrics {
		if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
			return fmt.Errorf("amazon_capi: registering metrics: %w", err)
		}
	}
	if len(h.Events) == 0 {
		return fmt.Errorf("amazon_capi: no event configured; add an event <name> { … } block")
	}
	var clicks mapping.Options
	if h.ClickToken != nil {
		if err := h.ClickToken.provision(); err != nil {
			return fmt.Errorf("amazon_capi: %w", err)
		}
		clicks.ClickTokenCookie, clicks.ClickTokenMaxAge = h.ClickToken.Cookie, time.Duration(h.ClickToken.MaxAge)
	}
	settings, err := h.Destination.resolve()
	if err != nil {
		return fmt.Errorf("amazon_capi: %w", err)
	}
	seen := map[string]bool{}
	for _, ev := range h.Events {
		if seen[ev.Name] {
			return fmt.Errorf("amazon_capi: event %q is defined twice", ev.Name)
		}
		seen[ev.Name] = true
		if err := ev.provision(ctx, mapping.Options{EU: settings.region == "eu", ClickTokenCookie: clicks.ClickTokenCookie, ClickTokenMaxAge: clicks.ClickTokenMaxAge}); err != nil {
			return fmt.Errorf("amazon_capi: %w", err)
		}
		ev.matchedTotal = theMetrics().events.WithLabelValues(settings.label(), ev.mapping.EventName(), "matched")
		if settings.region == "eu" && !ev.mapping.MapsExplicitConsent() {
			h.logger.Warn("Amazon requires a consent signal for EU advertisers; this event maps none (consent_tcf, consent_gpp, amazon_consent_user_data), so only the client IP (consent.geo) is sent",
				zap.String("event", ev.Name))
		}
	}
	h.settleConsent() // clicktoken.go
	if h.ClickToken != nil && settings.api == amazon.V1 {
		h.logger.Warn("click_token keeps click tokens, but api v1 has no arefMeasurementTokens: they are not sent; use api v2")
	}
	if looksLikeEntityID(settings.accountID) {
		h.logger.Warn(entityIDWarning, zap.String("destination", settings.label()))
	}
	if !settings.dryRun {
		if err := checkSpoolDir(settings.spoolDir()); err != nil {
			return fmt.Errorf("amazon_capi: %w", err)
		}
	}
	app, err := appOf(ctx)
	if err != nil {
		return fmt.Errorf("amazon_capi: %w", err)
	}
	dest, err := acquireDestination(settings, h.logger)
	if err != nil {
		return fmt.Errorf("amazon_capi: %w", err)
	}
	h.dest = dest
	h.maxBody = settings.maxBody
	h.maxResponseBody = settings.maxResponseBody
	if app == nil {
		return dest.start()
	}
	app.add(dest)
	return nil
}

// eventNames are the handler's event names, for logs.
func (h *Handler) eventNames() []string {
	names := make([]string, len(h.Events))
	for i, ev := range h.Events {
		names[i] = ev.Name
	}
	return names
}

// entityIDWarning explains which account ID Amazon's own sample sends.
const entityIDWarning = "account_id looks like an Entity ID (ENTITY…, what Adobe's extension asks for); Amazon's own Events API sample sends the numeric DSP advertiser ID instead. If Amazon answers 401 or 403, run `caddy amazon-capi accounts --config <this Caddyfile>` and use the DSP advertiser ID it lists"

// looksLikeEntityID reports an account ID copied from the Campaign
// Manager's URL (ENTITY…), as Adobe's extension asks for.
func looksLikeEntityID(id string) bool {
	return len(id) > len("ENTITY") && strings.EqualFold(id[:len("ENTITY")], "ENTITY")
}

// Validate checks that the configuration is complete.
func (h *Handler) Validate() error {
	if h.BatchSize < 0 || h.BatchSize > amazon.MaxBatch {
		return fmt.Errorf("amazon_capi: batch_size must be 1–%d", amazon.MaxBatch)
	}
	return nil
}

// Cleanup releases the handler's hold on its destination; the forwarder
// stops (after sending what it holds) when no config uses it any more.
func (h *Handler) Cleanup() error {
	if h.dest != nil {
		h.dest.release()
	}
	return nil
}

// ServeHTTP passes the request on and, when events match it, builds and
// queues their conversions. A request no event matches costs only the
// matcher checks.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if h.ClickToken.lands(r) {
		h.ClickToken.remember(w, r)
	}
	first := -1
	for i, ev := range h.Events {
		if ev.matches(r) {
			first = i
			break
		}
	}
	if first < 0 {
		return next.ServeHTTP(w, r)
	}
	return h.serveMatched(w, r, next, first)
}

func (h *Handler) serveMatched(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, first int) error {
	if handled, err := floorServe(h, w, r, next); handled { // benchfloor builds only
		return err
	}
	arrived := time.Now()
	matched := make([]*Event, 0, len(h.Events)-first)
	matched = append(matched, h.Events[first])
	for _, ev := range h.Events[first+1:] {
		if ev.matches(r) {
			matched = append(matched, ev)
		}
	}
	view := h.newView(r, matched, arrived)
	h.handOutEventIDs(w, r, matched, view)
	var later []*Event
	now := matched[:0:0]
	for _, ev := range matched {
		if ev.needsResponse() {
			later = append(later, ev)
		} else {
			now = append(now, ev)
		}
	}
	h.emit(now, view)
	if len(later) == 0 {
		releaseView(view)
		return next.ServeHTTP(w, r)
	}
	defer releaseView(view)
	tee := newResponseTee(w, h.responseBodyLimit(later))
	err := next.ServeHTTP(tee, r)
	view.Response = tee.response(err)
	answered := later[:0:0]
	for _, ev := range later {
		if ev.WhenResponse == nil || ev.WhenResponse.Match(view.Response.Status, view.Response.Header) {
			answered = append(answered, ev)
		}
	}
	h.emit(answered, view)
	return err
}

func (h *Handler) responseBodyLimit(events []*Event) int {
	for _, ev := range events {
		if ev.mapping.ReadsResponseBody() {
			return int(h.maxResponseBody)
		}
	}
	return 0
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
