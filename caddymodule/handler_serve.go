package caddymodule

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/internal/bodytee"
	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// views pools the views of matched requests (a mapping.Request holds the
// mapping's pass over the body, some 600 bytes). An event built from a view
// owns everything it points to (strings, its parts), so a view goes back
// (releaseView) once its events are built, whatever becomes of them.
var views = sync.Pool{New: func() any { return new(mapping.Request) }}

// releaseView clears a view, so that it keeps no request alive and the next
// request starts from nothing, and puts it back for the next one.
func releaseView(view *mapping.Request) {
	view.Reset()
	views.Put(view)
}

// newView captures what the mappings of the matched events read: the body
// is teed only when one of them reads it. The view is taken from views;
// give it back with releaseView once its events are built.
func (h *Handler) newView(r *http.Request, matched []*Event, arrived time.Time) *mapping.Request {
	view := views.Get().(*mapping.Request)
	view.HTTP, view.Arrived = r, arrived
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok {
		view.RemoteIP = ip
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		view.Placeholders = repl
	}
	for _, ev := range matched {
		if ev.mapping.ReadsBody() {
			view.Body, view.BodyTooLarge = bodytee.Read(r, h.maxBody)
			break
		}
	}
	return view
}

// emit builds each matched event and queues it. It never fails the request:
// an invalid request is counted and logged without its values, and a panic
// is recovered.
//
// An event is counted as confirmed once its outcome is counted (invalid,
// queued, deduped, dropped, dry run), never before: the reconciliation
// reads the confirmations before the outcomes, so an event on its way
// between the two is never shown as unaccounted.
func (h *Handler) emit(matched []*Event, view *mapping.Request) {
	d := h.dest
	var building *confirmed // the event being built, not yet counted
	defer func() {
		if p := recover(); p != nil {
			d.counters.panics.Add(1)
			if building != nil { // lost: counted as dropped
				building.lost.Add(1)
				building.confirmed.Add(1)
			}
			h.logger.Error("recovered from a panic while building an event; the request was not affected", zap.Any("panic", p))
		}
	}()
	label := d.settings.label()
	repl, _ := view.HTTP.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	for _, ev := range matched {
		ev.matchedTotal.Inc()
		confirmed := d.confirmations.of(ev.mapping.EventName())
		building = confirmed
		var notes mapping.Notes
		e, err := ev.mapping.EvaluateNoting(view, &notes)
		if len(notes.DroppedKeys)+len(notes.DroppedCustom)+len(notes.UnknownConsent)+notes.MalformedClickTokens > 0 {
			theMetrics().dropped(label, ev.mapping.EventName(), &notes)
		}
		if err != nil {
			field, code := "(unknown)", "other"
			var inv *mapping.InvalidError
			if errors.As(err, &inv) {
				field, code = inv.Field, inv.Code
				h.logger.Debug("request matched but gave no event", zap.String("event", inv.Event), zap.String("field", inv.Field), zap.String("reason", inv.Reason))
			}
			confirmed.invalidOne(field, code)
			confirmed.confirmed.Add(1)
			building = nil
			theMetrics().event(label, ev.mapping.EventName(), "invalid")
			theMetrics().invalid(label, ev.mapping.EventName(), field, code)
			continue
		}
		if repl != nil {
			if _, set := repl.Get(ev.placeholderKey); !set {
				repl.Set(ev.placeholderKey, e.EventID) // an ID known only now (from the answer, or generated)
			}
		}
		d.quality.observe(&e, &notes, d.settings.api == amazon.V1)
		d.enqueue(e, !ev.mapping.MapsDedupeID())
		confirmed.confirmed.Add(1)
		building = nil
	}
}

// handOutEventIDs fixes each matched event's ID before the request goes on
// and hands it out: as the {http.amazon_capi.<event>.event_id} placeholder
// and, when configured, a response header and a cookie. An event without a
// mapped dedupe ID gets a generated one, which is then sent to Amazon
// unchanged. An ID read from the response is known only after the answer:
// emit sets the placeholder then, and the header and cookie are not sent.
func (h *Handler) handOutEventIDs(w http.ResponseWriter, r *http.Request, matched []*Event, view *mapping.Request) {
	repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	for _, ev := range matched {
		id, ok := ev.mapping.DedupeID(view)
		if !ok && !ev.mapping.MapsDedupeID() {
			id, ok = mapping.NewEventID(), true
			view.FixedIDs = append(view.FixedIDs, mapping.FixedID{Event: ev.Name, ID: id})
		}
		if !ok {
			continue
		}
		if repl != nil {
			repl.Set(ev.placeholderKey, id)
		}
		if ev.EventIDHeader != "" {
			w.Header().Set(ev.EventIDHeader, id)
		}
		if ev.EventIDCookie != "" {
			http.SetCookie(w, &http.Cookie{Name: ev.EventIDCookie, Value: id, Path: "/", MaxAge: 600, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r)})
		}
	}
}

// isHTTPS reports whether the client reached the site over HTTPS: Caddy
// terminated TLS, or a proxy Caddy trusts (trusted_proxies) did and says
// so in X-Forwarded-Proto. A cookie set on such a request is Secure.
func isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool)
	return trusted && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}
