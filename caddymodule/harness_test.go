package caddymodule

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/shopsignal/caddy-amazon-capi/internal/testnet"
	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

// Caddy is one global instance per process: every test of this package that
// starts it loads its config into the same in-process Caddy, one test at a
// time (no t.Parallel), on ports picked free.
var adminPort = freePort()

// freePort returns a loopback port that was free a moment ago and that no
// other test of this process got (see testnet.FreePort).
func freePort() int {
	port, err := testnet.FreePort()
	if err != nil {
		panic(err)
	}
	return port
}

// loadCaddy loads a config (Caddyfile or JSON) into the in-process Caddy.
// The global options of a fixture() set the admin port; the config is
// replaced by an empty one when the test ends, which releases its
// destinations.
func loadCaddy(t *testing.T, config, adapter string) *caddytest.Tester {
	t.Helper()
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{
		AdminPort:          adminPort,
		Certificates:       []string{},
		LoadRequestTimeout: 20 * time.Second,
		TestRequestTimeout: 30 * time.Second,
	})
	tester.InitServer(config, adapter)
	if t.Failed() {
		t.FailNow()
	}
	t.Cleanup(func() {
		empty := fmt.Sprintf(`{"admin":{"listen":"localhost:%d","config":{"persist":false}}}`, adminPort)
		resp, err := adminClient.Post(fmt.Sprintf("http://localhost:%d/load", adminPort), "application/json", strings.NewReader(empty))
		if err == nil {
			resp.Body.Close()
		}
	})
	return tester
}

// adminClient talks to Caddy's admin endpoint, which every config load
// replaces: a request that reaches the old endpoint as it stops is cut off
// (the client sees EOF, in about 1 of 100 reloads under load). It uses a
// new connection each time and sends such a request again, up to 5 times;
// the requests the tests send (config loads, reads) may be repeated.
var adminClient = &http.Client{Transport: retryCutOff{&http.Transport{DisableKeepAlives: true}}}

type retryCutOff struct{ next http.RoundTripper }

func (rt retryCutOff) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := rt.next.RoundTrip(req)
		if err == nil || attempt == 5 || (req.Body != nil && req.GetBody == nil) {
			return resp, err
		}
		again := req.Clone(req.Context())
		if req.GetBody != nil {
			if again.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = again
	}
}

// sandboxServer finds the running sandbox whose key contains account.
func sandboxServer(t *testing.T, account string) *sandbox.Server {
	t.Helper()
	found := sandbox.Running(account)
	if len(found) == 0 {
		t.Fatalf("no sandbox for account %s is running", account)
	}
	return found[0]
}

// awaitReceived waits until the sandbox has received n events and returns them.
func awaitReceived(t *testing.T, sb *sandbox.Server, n int) []sandbox.Received {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := sb.Received()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox received %d events, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// echoUpstream is the site behind reverse_proxy: it reports exactly what it
// received, so a test can compare what the site saw with and without the
// module.
type echoUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []received
}

type received struct {
	Method, URI, Proto string
	ContentLength      int64
	TransferEncoding   []string
	Header             map[string][]string
	BodyLen            int
	BodySHA256         string
}

func newEchoUpstream(t *testing.T) *echoUpstream {
	u := &echoUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		rec := received{
			Method: r.Method, URI: r.RequestURI, Proto: r.Proto, ContentLength: r.ContentLength,
			TransferEncoding: r.TransferEncoding, Header: stableHeaders(r.Header),
			BodyLen: len(body), BodySHA256: hex.EncodeToString(sum[:]),
		}
		u.mu.Lock()
		u.seen = append(u.seen, rec)
		u.mu.Unlock()
		w.Header().Set("X-Upstream", "echo")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rec)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *echoUpstream) last() received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.seen[len(u.seen)-1]
}

// stableHeaders drops the headers that differ between any two requests.
func stableHeaders(h http.Header) map[string][]string {
	out := map[string][]string{}
	for k, v := range h {
		switch k {
		case "X-Forwarded-For", "Date":
			continue
		}
		out[k] = v
	}
	return out
}

// clientView is what a client got: status, headers that are not per-request
// noise, and the body.
type clientView struct {
	Status int
	Header []string
	Body   string
}

func doRequest(t *testing.T, req *http.Request) clientView {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var hdr []string
	for k, v := range resp.Header {
		if k == "Date" {
			continue
		}
		hdr = append(hdr, k+": "+strings.Join(v, ","))
	}
	sort.Strings(hdr)
	return clientView{Status: resp.StatusCode, Header: hdr, Body: string(body)}
}

// chunkedReader hides its length, so the client sends the body chunked.
type chunkedReader struct{ io.Reader }

func newRequest(t *testing.T, method, url string, body []byte, chunked bool, header map[string]string) *http.Request {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = chunkedReader{bytes.NewReader(body)}
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if chunked {
		req.ContentLength = -1
	}
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

var _ = caddy.Duration(0)

func sandboxFaults503() sandbox.Faults { return sandbox.Faults{Status: 503} }

// sandboxAt finds the only running sandbox (for configs whose sandbox has
// no account_id); port is for the error message.
func sandboxAt(t *testing.T, port int) *sandbox.Server {
	t.Helper()
	found := sandbox.Running("")
	if len(found) != 1 {
		t.Fatalf("%d sandboxes running, want the one on port %d", len(found), port)
	}
	return found[0]
}

// The admin client sends a request that was cut off again, body and all.
func TestTheAdminClientSendsACutOffRequestAgain(t *testing.T) {
	var calls atomic.Int64
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if calls.Add(1) == 1 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close() // as a stopping admin endpoint does
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	resp, err := adminClient.Post(srv.URL+"/load", "text/caddyfile", strings.NewReader("config"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if calls.Load() != 2 || bodies[0] != "config" || bodies[1] != "config" {
		t.Errorf("%d calls with bodies %q, want 2 with the config each time", calls.Load(), bodies)
	}
}
