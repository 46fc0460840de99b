package sandbox

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// The sandbox's page and endpoints answer only at localhost, an IP address
// or a configured host (a page elsewhere reaching it by DNS rebinding names
// its own host), and take no state change from another site; the Amazon
// API it plays answers whatever the Host.
func TestTheSandboxRefusesOtherHostsAndCrossSiteChanges(t *testing.T) {
	s := New(Config{Hosts: []string{"sandbox.test"}})
	request := func(method, host, path string, header map[string]string) int {
		r := httptest.NewRequest(method, path, strings.NewReader(`{}`))
		r.Host = host
		for k, v := range header {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	for _, c := range []struct {
		method, host, path string
		header             map[string]string
		want               int
	}{
		{"GET", "localhost:8081", "/sandbox/events", nil, 200},
		{"GET", "127.0.0.1:8081", "/sandbox/events", nil, 200},
		{"GET", "[::1]:8081", "/", nil, 200},
		{"GET", "shop.localhost", "/sandbox/events", nil, 200},
		{"GET", "SANDBOX.test:80", "/sandbox/events", nil, 200},
		{"GET", "attacker.example:8081", "/sandbox/events", nil, 403},
		{"GET", "attacker.example", "/", nil, 403},
		{"POST", "attacker.example", "/sandbox/reset", nil, 403},
		{"POST", "localhost:8081", "/sandbox/reset", nil, 200},
		{"POST", "localhost:8081", "/sandbox/reset", map[string]string{"Origin": "http://localhost:8081", "Sec-Fetch-Site": "same-origin"}, 200},
		{"POST", "localhost:8081", "/sandbox/reset", map[string]string{"Origin": "https://evil.example"}, 403},
		{"POST", "localhost:8081", "/sandbox/faults", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"POST", "localhost:8081", "/sandbox/faults", map[string]string{"Origin": "null"}, 403},
		{"POST", "api.example", "/auth/o2/token", nil, 400}, // the API it plays: any Host (refused here for its empty grant)
	} {
		if got := request(c.method, c.host, c.path, c.header); got != c.want {
			t.Errorf("%s %s%s %v: %d, want %d", c.method, c.host, c.path, c.header, got, c.want)
		}
	}
}

// What the sandbox keeps is bounded in bytes, not only in count: 60 calls
// of big events do not grow it past KeepBytes.
func TestTheSandboxKeepsABoundedNumberOfBytes(t *testing.T) {
	s := newSandbox(Config{KeepBytes: 1 << 20})
	big := strings.Repeat("x", 200)
	for call := 0; call < 60; call++ {
		var events []map[string]any
		for i := 0; i < 100; i++ {
			e := v2Event("big")
			e["customData"] = []any{map[string]any{"name": "note", "dataType": "STRING", "value": big}}
			events = append(events, e)
		}
		v2(events...).do(t, s)
	}
	kept := 0
	for _, r := range s.Received() {
		kept += r.size()
	}
	raw, _ := json.Marshal(s.Received())
	if kept > 1<<20 || len(raw) > 2<<20 || len(s.Received()) == 0 {
		t.Fatalf("%d events kept, %d bytes by size, %d as JSON; want at most about 1 MiB", len(s.Received()), kept, len(raw))
	}
}
