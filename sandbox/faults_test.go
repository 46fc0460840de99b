package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestFailFirstFailsThenRecovers(t *testing.T) {
	s := newSandbox(Config{Faults: Faults{Status: 503, FailFirst: 2, RetryAfter: 1}})
	for i, want := range []int{503, 503, 207, 207} {
		got := v2(v2Event("a")).do(t, s)
		if got.status != want {
			t.Fatalf("call %d: %d, want %d", i, got.status, want)
		}
		if want == 503 && (got.header.Get("Retry-After") != "1" || got.body["code"] != "INTERNAL_ERROR" || got.body["message"] == "") {
			t.Errorf("call %d: Retry-After %q, body %s", i, got.header.Get("Retry-After"), got.raw)
		}
		if want == 207 && got.header.Get("Retry-After") != "" {
			t.Errorf("call %d: Retry-After on success", i)
		}
	}
	if st := s.Stats(); st.Requests != 4 || st.Events != 2 || len(s.Received()) != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaultStatusesAndCodes(t *testing.T) {
	cases := []struct {
		status int
		code   string
	}{
		{429, "TOO_MANY_REQUESTS"}, {500, "INTERNAL_ERROR"}, {502, "INTERNAL_ERROR"}, {504, "INTERNAL_ERROR"},
		{401, "UNAUTHORIZED"}, {403, "FORBIDDEN"}, {413, "CONTENT_TOO_LARGE"}, {400, "BAD_REQUEST"},
	}
	for _, c := range cases {
		s := newSandbox(Config{Faults: Faults{Status: c.status}})
		for i := range 3 { // FailFirst 0: every call
			got := v1(v1Event("a")).do(t, s)
			if got.status != c.status || got.body["code"] != c.code || got.header.Get("Retry-After") != "" {
				t.Errorf("%d call %d: %d %s", c.status, i, got.status, got.raw)
			}
		}
	}
}

func TestFaultsComeBeforeEverythingElse(t *testing.T) {
	s := newSandbox(Config{Faults: Faults{Status: 429, RetryAfter: 7}})
	got := call{method: http.MethodGet, path: pathV2, headers: map[string]string{"Authorization": "", "Amazon-Ads-AccountId": ""}}.do(t, s)
	if got.status != 429 || got.header.Get("Retry-After") != "7" {
		t.Errorf("%d %s", got.status, got.raw)
	}
	// Other routes are not affected.
	if got := serve(t, s, grantRequest(goodGrant())); got.status != 200 {
		t.Errorf("token: %d", got.status)
	}
}

func TestSetFaultsReplacesAndRestartsTheCount(t *testing.T) {
	s := newSandbox(Config{Faults: Faults{Status: 500, FailFirst: 1}})
	statuses := func(n int) []int {
		var out []int
		for range n {
			out = append(out, v2(v2Event("a")).do(t, s).status)
		}
		return out
	}
	if got := statuses(2); !equalInts(got, []int{500, 207}) {
		t.Errorf("initial: %v", got)
	}
	s.SetFaults(Faults{Status: 500, FailFirst: 1})
	if got := statuses(2); !equalInts(got, []int{500, 207}) {
		t.Errorf("after SetFaults: %v", got)
	}
	s.SetFaults(Faults{})
	if got := statuses(1); !equalInts(got, []int{207}) {
		t.Errorf("cleared: %v", got)
	}
}

func TestFaultsOverHTTP(t *testing.T) {
	s := newSandbox(Config{})
	body := `{"delay":"2s","status":503,"fail_first":3,"retry_after":1}`
	got := call{path: "/sandbox/faults", body: []byte(body)}.do(t, s)
	want := Faults{Delay: 2 * time.Second, Status: 503, FailFirst: 3, RetryAfter: 1}
	if got.status != 200 || s.currentFaults() != want {
		t.Fatalf("%d %s → %+v", got.status, got.raw, s.currentFaults())
	}
	shown := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/faults", nil))
	if strings.TrimSpace(string(shown.raw)) != body {
		t.Errorf("GET shows %s, want %s", shown.raw, body)
	}
	for _, bad := range []string{`{"delay":2}`, `{"delay":"soon"}`, `{"delay":"-1s"}`, `{"status":200}`, `{"status":99}`,
		`{"status":600}`, `{"fail_first":-1}`, `{"stauts":503}`, `not json`} {
		got := call{path: "/sandbox/faults", body: []byte(bad)}.do(t, s)
		if got.status != 400 || got.body["code"] != "BAD_REQUEST" || s.currentFaults() != want {
			t.Errorf("%s: %d %s, faults now %+v", bad, got.status, got.raw, s.currentFaults())
		}
	}
	if got := (call{path: "/sandbox/faults", body: []byte(`{}`)}).do(t, s); got.status != 200 || s.currentFaults() != (Faults{}) {
		t.Errorf("clearing: %d %+v", got.status, s.currentFaults())
	}
}

func TestFaultsJSONRoundTrip(t *testing.T) {
	f := Faults{Delay: 1500 * time.Millisecond, Status: 429, FailFirst: 2, RetryAfter: 3}
	raw, err := json.Marshal(f)
	if err != nil || string(raw) != `{"delay":"1.5s","status":429,"fail_first":2,"retry_after":3}` {
		t.Fatalf("%s %v", raw, err)
	}
	var back Faults
	if err := json.Unmarshal(raw, &back); err != nil || back != f {
		t.Errorf("%+v %v", back, err)
	}
}

// The fault delay runs on the real clock; these tests run in a synctest
// bubble, whose clock moves only when every goroutine in it is blocked, so
// a 2-second (or hour-long) delay is exact and instant.

func TestDelayHoldsTheAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSandbox(Config{Faults: Faults{Delay: 2 * time.Second, Status: 503, FailFirst: 1}})
		began := time.Now()
		done := make(chan reply, 1)
		go func() {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, v2(v2Event("a")).request())
			done <- reply{status: w.Code}
		}()
		time.Sleep(2*time.Second - time.Nanosecond)
		synctest.Wait()
		select {
		case r := <-done:
			t.Fatalf("answered %d while the delay was still running", r.status)
		default:
		}
		r := <-done
		if r.status != 503 || time.Since(began) != 2*time.Second {
			t.Errorf("answered %d after %v, want the fault status after 2s", r.status, time.Since(began))
		}
	})
}

func TestDelayEndsWhenTheCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSandbox(Config{Faults: Faults{Delay: time.Hour, Status: 503, FailFirst: 1}})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, v2(v2Event("a")).request().WithContext(ctx)) // returns at once, not in an hour
		if st := s.Stats(); st.Requests != 0 || len(s.Received()) != 0 || w.Body.Len() != 0 {
			t.Errorf("a call given up during the delay was handled: %+v %q", st, w.Body.String())
		}
		// Giving up used no FailFirst slot: the next call (an hour later) fails.
		if got := v2(v2Event("a")).do(t, s); got.status != 503 {
			t.Errorf("next call %d, want 503", got.status)
		}

		// Cancelled while waiting.
		ctx, cancel = context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			s.ServeHTTP(httptest.NewRecorder(), v2(v2Event("b")).request().WithContext(ctx))
			close(done)
		}()
		synctest.Wait() // the call is in its delay
		cancel()
		<-done
		if len(s.Received()) != 0 {
			t.Errorf("kept %v", ids(s.Received()))
		}
	})
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if !sleep(ctx, time.Nanosecond) {
		t.Errorf("a 1ns sleep did not complete")
	}
	cancel()
	if sleep(ctx, time.Hour) {
		t.Errorf("a cancelled sleep completed")
	}
}
