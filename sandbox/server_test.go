package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestHeadersAndTokensAreChecked(t *testing.T) {
	cases := []struct {
		name    string
		path    string
		headers map[string]string
		status  int
		code    string
		mention string // the message names this
	}{
		{"good v2", pathV2, nil, 207, "", ""},
		{"good v1", pathV1, nil, 207, "", ""},
		{"lowercase bearer", pathV2, map[string]string{"Authorization": "bearer static"}, 207, "", ""},
		{"json with charset", pathV2, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 207, "", ""},
		{"no token", pathV2, map[string]string{"Authorization": ""}, 401, "UNAUTHORIZED", "bearer"},
		{"unknown token", pathV2, map[string]string{"Authorization": "Bearer nope"}, 401, "UNAUTHORIZED", ""},
		{"basic auth", pathV2, map[string]string{"Authorization": "Basic c3RhdGlj"}, 401, "UNAUTHORIZED", ""},
		{"bare token", pathV2, map[string]string{"Authorization": "static"}, 401, "UNAUTHORIZED", ""},
		{"no account", pathV2, map[string]string{"Amazon-Ads-AccountId": ""}, 400, "BAD_REQUEST", "Amazon-Ads-AccountId"},
		{"wrong account", pathV2, map[string]string{"Amazon-Ads-AccountId": "OTHER"}, 403, "FORBIDDEN", "Amazon-Ads-AccountId"},
		{"no v1 account", pathV1, map[string]string{"Amazon-Ads-AccountId": ""}, 400, "BAD_REQUEST", "Amazon-Ads-AccountId"},
		{"no client", pathV2, map[string]string{"Amazon-Ads-ClientId": ""}, 400, "BAD_REQUEST", "Amazon-Ads-ClientId"},
		{"wrong client", pathV2, map[string]string{"Amazon-Ads-ClientId": "x"}, 403, "FORBIDDEN", "Amazon-Ads-ClientId"},
		{"v1 header on v2", pathV2, map[string]string{"Amazon-Ads-ClientId": "", "Amazon-Advertising-API-ClientId": "cid"}, 400, "BAD_REQUEST", "Amazon-Ads-ClientId"},
		{"no v1 client", pathV1, map[string]string{"Amazon-Advertising-API-ClientId": ""}, 400, "BAD_REQUEST", "Amazon-Advertising-API-ClientId"},
		{"wrong v1 client", pathV1, map[string]string{"Amazon-Advertising-API-ClientId": "x"}, 403, "FORBIDDEN", "Amazon-Advertising-API-ClientId"},
		{"v2 header on v1", pathV1, map[string]string{"Amazon-Advertising-API-ClientId": "", "Amazon-Ads-ClientId": "cid"}, 400, "BAD_REQUEST", "Amazon-Advertising-API-ClientId"},
		{"text body", pathV2, map[string]string{"Content-Type": "text/plain"}, 400, "BAD_REQUEST", "Content-Type"},
		{"no content type", pathV2, map[string]string{"Content-Type": ""}, 400, "BAD_REQUEST", "Content-Type"},
		{"json-like type", pathV2, map[string]string{"Content-Type": "application/jsonx"}, 400, "BAD_REQUEST", "Content-Type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(Config{})
			req := v2(v2Event("a"))
			if c.path == pathV1 {
				req = v1(v1Event("a"))
			}
			req.headers = c.headers
			got := req.do(t, s)
			if got.status != c.status || c.code != "" && got.body["code"] != c.code {
				t.Fatalf("%d %s, want %d %s", got.status, got.raw, c.status, c.code)
			}
			if msg, _ := got.body["message"].(string); !strings.Contains(msg, c.mention) {
				t.Errorf("message %q does not name %q", msg, c.mention)
			}
			if c.status != 207 && len(s.Received()) != 0 {
				t.Errorf("a refused call recorded events")
			}
		})
	}
}

func TestUnconfiguredAccountAndClientAcceptAnyValue(t *testing.T) {
	s := New(Config{AccessTokens: []string{"static"}})
	req := v2(v2Event("a"))
	req.headers = map[string]string{"Amazon-Ads-AccountId": "ENTITY123", "Amazon-Ads-ClientId": "amzn1.application-oa2-client.x"}
	if got := req.do(t, s); got.status != 207 {
		t.Errorf("%d %s", got.status, got.raw)
	}
	req.headers = map[string]string{"Amazon-Ads-AccountId": ""}
	if got := req.do(t, s); got.status != 400 {
		t.Errorf("missing account still refused: %d", got.status)
	}
}

func TestWholeRequestErrors(t *testing.T) {
	many := make([]map[string]any, 501)
	for i := range many {
		many[i] = v2Event(fmt.Sprint(i))
	}
	cases := map[string]call{
		"0 events":         v2(),
		"501 events":       v2(many...),
		"v1 0 events":      v1(),
		"not JSON":         {path: pathV2, body: []byte("{")},
		"trailing data":    {path: pathV2, body: []byte(`{"events":[]} {}`)},
		"array body":       {path: pathV2, body: []byte(`[` + mustJSON(v2Event("a")) + `]`)},
		"events missing":   {path: pathV2, body: map[string]any{"eventData": []any{v2Event("a")}}},
		"events null":      {path: pathV2, body: []byte(`{"events":null}`)},
		"events object":    {path: pathV2, body: map[string]any{"events": v2Event("a")}},
		"v1 no method":     {path: pathV1, body: map[string]any{"eventData": []any{v1Event("a")}}},
		"v1 wrong method":  {path: pathV1, body: map[string]any{"ingestionMethod": "BROWSER", "eventData": []any{v1Event("a")}}},
		"v1 events field":  {path: pathV1, body: map[string]any{"ingestionMethod": "SERVER_TO_SERVER", "events": []any{v1Event("a")}}},
		"v1 empty body":    {path: pathV1, body: []byte(``)},
		"v2 body on v1":    {path: pathV1, body: map[string]any{"events": []any{v2Event("a")}}},
		"v1 body on v2":    {path: pathV2, body: map[string]any{"ingestionMethod": "SERVER_TO_SERVER", "eventData": []any{v1Event("a")}}},
		"v1 501 eventData": {path: pathV1, body: map[string]any{"ingestionMethod": "SERVER_TO_SERVER", "eventData": list(many)}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(Config{})
			got := c.do(t, s)
			if got.status != 400 || got.body["code"] != "BAD_REQUEST" || got.body["message"] == "" {
				t.Errorf("%d %s", got.status, got.raw)
			}
			if st := s.Stats(); st.Requests != 1 || st.Events != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestFiveHundredEventsAreAllowed(t *testing.T) {
	many := make([]map[string]any, 500)
	for i := range many {
		many[i] = v2Event(fmt.Sprint(i))
	}
	got := v2(many...).do(t, newSandbox(Config{}))
	if got.status != 207 || len(got.indexes("success")) != 500 || got.indexes("success")[499] != 499 {
		t.Errorf("%d, %d successes", got.status, len(got.indexes("success")))
	}
}

func TestBodiesOverFiveMiBAre413(t *testing.T) {
	pad := strings.Repeat("x", maxPayload)
	for name, c := range map[string]call{
		"v2": {path: pathV2, body: []byte(`{"events":["` + pad + `"]}`)},
		"v1": {path: pathV1, body: []byte(`{"ingestionMethod":"SERVER_TO_SERVER","eventData":["` + pad + `"]}`)},
	} {
		got := c.do(t, newSandbox(Config{}))
		if got.status != 413 || got.body["code"] != "CONTENT_TOO_LARGE" {
			t.Errorf("%s: %d %s", name, got.status, got.raw)
		}
	}
	// Without a Content-Length the body is still cut at the limit.
	r := call{path: pathV2, body: []byte(`{"events":["` + pad + `"]}`)}.request()
	r.ContentLength = -1
	if got := serve(t, newSandbox(Config{}), r); got.status != 413 {
		t.Errorf("unknown length: %d", got.status)
	}
}

func TestMethodsAndUnknownPaths(t *testing.T) {
	s := newSandbox(Config{})
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", pathV2, 405, "BAD_REQUEST"},
		{"PUT", pathV1, 405, "BAD_REQUEST"},
		{"POST", "/adsApi/v1/create/event", 404, "NOT_FOUND"},
		{"POST", "/events/v2", 404, "NOT_FOUND"},
		{"GET", "/favicon.ico", 404, "NOT_FOUND"},
		{"GET", "/sandbox/reset", 405, "BAD_REQUEST"},
		{"POST", "/sandbox/events", 405, "BAD_REQUEST"},
		{"DELETE", "/sandbox/faults", 405, "BAD_REQUEST"},
		{"POST", "/", 405, "BAD_REQUEST"},
	}
	for _, c := range cases {
		got := call{method: c.method, path: c.path, body: v2Event("a")}.do(t, s)
		if got.status != c.status || got.body["code"] != c.code {
			t.Errorf("%s %s: %d %s", c.method, c.path, got.status, got.raw)
		}
		if c.status == 405 && got.header.Get("Allow") == "" {
			t.Errorf("%s %s: no Allow header", c.method, c.path)
		}
	}
}

func TestWorksMountedUnderAStrippedPrefix(t *testing.T) {
	s := newSandbox(Config{})
	h := http.StripPrefix("/amazon", s)
	if got := (call{path: "/amazon" + pathV2, body: map[string]any{"events": []any{v2Event("a")}}}).do(t, h); got.status != 207 {
		t.Errorf("events: %d %s", got.status, got.raw)
	}
	for _, p := range []string{"/amazon", "/amazon/", "/amazon/sandbox/"} {
		got := serve(t, h, httptest.NewRequest(http.MethodGet, p, nil))
		if got.status != 200 || !strings.Contains(string(got.raw), `data-event-id="a"`) {
			t.Errorf("page at %s: %d", p, got.status)
		}
	}
}

func TestReceivedIsNewestFirstAndBoundedByKeep(t *testing.T) {
	s := newSandbox(Config{Keep: 4})
	v2(v2Event("a0"), v2Event("a1"), v2Event("a2")).do(t, s)
	v1(v1Event("b0"), v1Event("b1")).do(t, s)
	got := s.Received()
	if want := "b1 b0 a2 a1"; strings.Join(ids(got), " ") != want {
		t.Fatalf("kept %v, want %s", ids(got), want)
	}
	if got[0].Index != 1 || got[0].API != "v1" || got[2].Index != 2 || got[2].API != "v2" {
		t.Errorf("indexes/APIs %+v", got)
	}
	for i := range 6 {
		v2(v2Event(fmt.Sprintf("c%d", i))).do(t, s)
	}
	if want := "c5 c4 c3 c2"; strings.Join(ids(s.Received()), " ") != want {
		t.Errorf("kept %v, want %s", ids(s.Received()), want)
	}
	if st := s.Stats(); st.Events != 11 || st.Requests != 8 {
		t.Errorf("stats %+v", st)
	}
}

func TestReceivedReturnsCopies(t *testing.T) {
	s := newSandbox(Config{})
	v2(v2Event("a")).do(t, s)
	got := s.Received()
	got[0].EventID = "changed"
	got[0].MatchKeyTypes[0] = "changed"
	*got[0].Value = 1
	got[0].Event[0] = 'X'
	again := s.Received()[0]
	if again.EventID != "a" || again.MatchKeyTypes[0] != "EMAIL" || *again.Value != 129.95 || again.Event[0] != '{' {
		t.Errorf("the kept event changed: %+v", again)
	}
}

func TestResetForgetsEventsAndCounters(t *testing.T) {
	s := newSandbox(Config{})
	v2(v2Event("a")).do(t, s)
	got := call{path: "/sandbox/reset"}.do(t, s)
	if got.status != 200 || len(s.Received()) != 0 || s.Stats() != (Stats{}) {
		t.Errorf("%d, %d kept, stats %+v", got.status, len(s.Received()), s.Stats())
	}
	v2(v2Event("b")).do(t, s)
	s.Reset()
	if len(s.Received()) != 0 || s.Stats() != (Stats{}) {
		t.Errorf("Reset kept %v", ids(s.Received()))
	}
	if got := v2(v2Event("c")).do(t, s); got.status != 207 || ids(s.Received())[0] != "c" {
		t.Errorf("after reset: %d %v", got.status, ids(s.Received()))
	}
}

func TestEventsListing(t *testing.T) {
	s := newSandbox(Config{})
	bad := v2Event("bad")
	bad["countryCode"] = "XX"
	v2(v2Event("good"), bad).do(t, s)
	got := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/events", nil))
	if got.status != 200 {
		t.Fatalf("%d", got.status)
	}
	stats := got.body["stats"].(map[string]any)
	events := got.body["events"].([]any)
	if stats["events"] != 2.0 || stats["accepted"] != 1.0 || stats["rejected"] != 1.0 || stats["requests"] != 1.0 || len(events) != 2 {
		t.Fatalf("%s", got.raw)
	}
	first := events[0].(map[string]any)
	errs := first["errors"].([]any)[0].(map[string]any)
	if first["eventId"] != "bad" || first["accepted"] != false || first["index"] != 1.0 || first["api"] != "v2" ||
		errs["code"] != "FIELD_VALUE_IS_INVALID" || errs["fieldLocation"] != "events[1].countryCode" || first["event"].(map[string]any)["countryCode"] != "XX" {
		t.Errorf("%v", first)
	}
	if !strings.Contains(string(got.raw), `"eventId":"good"`) {
		t.Errorf("listing lacks the compact eventId")
	}
}

func TestConcurrentCallsAreSafe(t *testing.T) {
	s := newSandbox(Config{Keep: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				bad := v2Event(fmt.Sprintf("bad-%d-%d", g, i))
				bad["countryCode"] = "XX"
				// No t.Fatal off the test goroutine: serve directly.
				s.ServeHTTP(httptest.NewRecorder(), v2(v2Event(fmt.Sprintf("ok-%d-%d", g, i)), bad).request())
				s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
				s.Received()
				s.Stats()
			}
		})
	}
	wg.Wait()
	if st := s.Stats(); st != (Stats{Requests: 80, Events: 160, Accepted: 80, Rejected: 80}) {
		t.Errorf("stats %+v", st)
	}
	if len(s.Received()) != 50 {
		t.Errorf("kept %d", len(s.Received()))
	}
}
