package caddymodule

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

var noop = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })

// benchHandler is a handler with two events selected by method and path,
// as a shop configures them, provisioned without a destination.
func benchHandler(tb testing.TB) *Handler {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: tb.Context()})
	tb.Cleanup(cancel)
	h := &Handler{}
	for _, name := range []string{"purchase", "signup"} {
		ev := &Event{Name: name, Rule: mapping.Rule{Type: "SIGN_UP", Country: "US", MatchKeys: []mapping.MatchKeyRule{{Type: "FIP", Value: "request.remote_ip"}}}}
		ev.MatcherSetsRaw = caddyhttp.RawMatcherSets{{"method": json.RawMessage(`["POST"]`), "path": json.RawMessage(`["/` + name + `"]`)}}
		if err := ev.provision(ctx, mapping.Options{}); err != nil {
			tb.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}

func unmatchedRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/products/blue-mug", nil)
	return caddyhttp.PrepareRequest(r, caddy.NewReplacer(), nil, nil)
}

// A request no event matches costs the matcher checks and nothing else:
// no more allocations than Caddy's own matchers make.
func TestAnUnmatchedRequestAllocatesNothingOfItsOwn(t *testing.T) {
	h := benchHandler(t)
	r := unmatchedRequest()
	matchersOnly := testing.AllocsPerRun(1000, func() {
		for _, ev := range h.Events {
			_, _ = ev.matchers.AnyMatchWithError(r)
		}
	})
	handler := testing.AllocsPerRun(1000, func() { _ = h.ServeHTTP(nil, r, noop) })
	t.Logf("allocations per unmatched request: %v in the matchers, %v in ServeHTTP", matchersOnly, handler)
	if handler > matchersOnly {
		t.Errorf("ServeHTTP allocates %v per unmatched request, the matchers alone %v", handler, matchersOnly)
	}
}

// BenchmarkServeHTTPUnmatched is the cost the module adds to a request it
// does not select.
func BenchmarkServeHTTPUnmatched(b *testing.B) {
	h := benchHandler(b)
	r := unmatchedRequest()
	b.ReportAllocs()
	for b.Loop() {
		_ = h.ServeHTTP(nil, r, noop)
	}
}
