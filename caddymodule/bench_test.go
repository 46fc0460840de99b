package caddymodule

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

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

// matchedHandler is the handler of bench/run.sh's case (e) (the rule is
// bench/lib.sh's capi block, which a Go test cannot source): a checkout
// event with three match keys, a spool, and an Amazon that is down.
func matchedHandler(b *testing.B) *Handler {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: b.Context()})
	b.Cleanup(cancel)
	h := &Handler{}
	capi := amazonCAPI().set("endpoint", "http://127.0.0.1:1").account("BENCH-go").accessToken("t").spool(b.TempDir()).event(
		purchase().match("method POST", "path /checkout").
			value("body.order.total").currency("body.order.currency").set("units_sold", "body.items.#.qty|@sum").
			country("body.shipping.country").
			key("EMAIL", "body.customer.email").key("PHONE", "body.customer.phone").key("FIP", "request.remote_ip"))
	d := caddyfile.NewTestDispenser(capi.String())
	if err := h.UnmarshalCaddyfile(d); err != nil {
		b.Fatal(err)
	}
	if err := h.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	// Amazon is unreachable here: the sender's retry lines would land in
	// the benchmark's result lines (go test prints both on one stream),
	// which tools that read the results cannot parse.
	quiet := zapcore.NewNopCore()
	h.dest.logCore.Store(&quiet)
	h.logger = zap.NewNop()
	b.Cleanup(func() { _ = h.Cleanup() })
	return h
}

// The 1 KiB checkout of bench/lib.sh (checkout_lua).
var benchCheckout = `{"order":{"total":"129.95","currency":"USD"},"customer":{"email":"Jane.Doe@example.com","phone":"+1 206 555 0100"},"shipping":{"country":"US"},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"note":"` + strings.Repeat("x", 700) + `"}`

// BenchmarkServeHTTPCheckout is what a matched checkout costs: the body
// tee, the mapping, hashing, the intake and, on another goroutine, the
// spool write (run it with -cpu 1 to count that goroutine's CPU in ns/op).
// "not matched" is the same request on a path no event selects: the
// difference is the module's cost. The next handler reads the body as
// reverse_proxy would.
func BenchmarkServeHTTPCheckout(b *testing.B) {
	h := matchedHandler(b)
	site := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.Copy(io.Discard, r.Body)
		return err
	})
	for _, path := range []string{"/checkout", "/other"} {
		name := map[string]string{"/checkout": "matched", "/other": "not matched"}[path]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(benchCheckout))
				r.RemoteAddr = "203.0.113.9:5555"
				r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), nil, nil)
				caddyhttp.SetVar(r.Context(), caddyhttp.ClientIPVarKey, "203.0.113.9") // as Caddy's server sets it
				if err := h.ServeHTTP(httptest.NewRecorder(), r, site); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if st := h.dest.status(); st.Queued == 0 || st.Invalid > 0 {
		b.Fatalf("status %+v: the checkout must give valid events", st)
	}
}
