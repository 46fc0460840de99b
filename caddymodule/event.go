package caddymodule

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

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

	mapping.Rule

	matchers caddyhttp.MatcherSets
	mapping  *mapping.Mapping
}

func (ev *Event) provision(ctx caddy.Context) error {
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
	m, err := mapping.Compile(ev.Name, ev.Rule)
	if err != nil {
		return err
	}
	ev.mapping = m
	return nil
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
