package caddymodule

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http/httpguts"

	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// Event selects requests with Caddy matchers and says how to read one
// conversion out of each. Its mapping fields (type, value, match_keys, …)
// are those of mapping.Rule.
type Event struct {
	// Name identifies the event in logs and metrics, and is the event's name
	// in Amazon unless event_name says otherwise.
	Name string `json:"name"`

	// MatcherSetsRaw selects the requests that produce this event, with
	// Caddy's request matchers (path, method, header, …). The event matches
	// when any set matches. Without matchers, every request the handler sees
	// matches.
	MatcherSetsRaw caddyhttp.RawMatcherSets `json:"match,omitempty" caddy:"namespace=http.matchers"`

	// WhenResponse, when set, sends the event only if the site's answer
	// matches it (Caddy's response matcher: status codes or classes such as
	// 2xx, and headers), e.g. so a failed checkout does not count.
	WhenResponse *caddyhttp.ResponseMatcher `json:"when_response,omitempty"`

	// EventIDHeader names a response header that carries the event's ID to
	// the page, so the Amazon Ad Tag can send the same clientDedupeId.
	EventIDHeader string `json:"event_id_header,omitempty"`

	// EventIDCookie names a cookie (Path=/, SameSite=Lax, 10 minutes;
	// Secure on HTTPS, and behind a trusted proxy that says
	// X-Forwarded-Proto: https) that carries the event's ID to the page.
	EventIDCookie string `json:"event_id_cookie,omitempty"`

	mapping.Rule

	matchers       caddyhttp.MatcherSets
	mapping        *mapping.Mapping
	placeholderKey string
	// matchedTotal is this event's "matched" counter, looked up once.
	matchedTotal prometheus.Counter
}

func (ev *Event) provision(ctx caddy.Context, opts mapping.Options) error {
	if ev.Name == "" {
		return fmt.Errorf("an event has no name; write event <name> { … }")
	}
	if ev.MatcherSetsRaw != nil {
		mods, err := ctx.LoadModule(ev, "MatcherSetsRaw")
		if err != nil {
			return fmt.Errorf("event %q: loading matchers: %w", ev.Name, err)
		}
		if err := ev.matchers.FromInterface(mods); err != nil {
			return fmt.Errorf("event %q: %w", ev.Name, err)
		}
	}
	for _, name := range []struct{ option, value string }{{"event_id_header", ev.EventIDHeader}, {"event_id_cookie", ev.EventIDCookie}} {
		if name.value != "" && !httpguts.ValidHeaderFieldName(name.value) {
			return fmt.Errorf("event %q: %s %q is not a valid name: use letters, digits and !#$%%&'*+-.^_`|~ only (no space, ';' or ':')", ev.Name, name.option, name.value)
		}
	}
	m, err := mapping.CompileWith(ev.Name, ev.Rule, opts)
	if err != nil {
		return err
	}
	ev.mapping = m
	ev.placeholderKey = "http.amazon_capi." + ev.Name + ".event_id"
	return nil
}

// needsResponse reports whether the event waits for the site's answer.
func (ev *Event) needsResponse() bool {
	return ev.WhenResponse != nil || ev.mapping.ReadsResponse()
}

// matches reports whether the request selects this event. A matcher error
// counts as no match.
func (ev *Event) matches(r *http.Request) bool {
	if len(ev.matchers) == 0 {
		return true
	}
	ok, err := ev.matchers.AnyMatchWithError(r)
	return ok && err == nil
}
