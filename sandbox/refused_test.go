package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCallsRefusedWholeAreListed(t *testing.T) {
	many := make([]map[string]any, 501)
	for i := range many {
		many[i] = v2Event(fmt.Sprint(i))
	}
	cases := []struct {
		name    string
		call    call
		faults  Faults
		status  int
		code    string
		api     string
		count   string // "unknown" or the number of events
		account string
		client  string
	}{
		{"bad token", withHeaders(v2(v2Event("a")), "Authorization", "Bearer nope"), Faults{}, 401, "UNAUTHORIZED", "v2", "1", "ACCT", "cid"},
		{"wrong account", withHeaders(v2(v2Event("a"), v2Event("b")), "Amazon-Ads-AccountId", "OTHER"), Faults{}, 403, "FORBIDDEN", "v2", "2", "OTHER", "cid"},
		{"wrong v1 client", withHeaders(v1(v1Event("a")), "Amazon-Advertising-API-ClientId", "other-client"), Faults{}, 403, "FORBIDDEN", "v1", "1", "ACCT", "other-client"},
		{"no account", withHeaders(v2(v2Event("a")), "Amazon-Ads-AccountId", ""), Faults{}, 400, "BAD_REQUEST", "v2", "1", "", "cid"},
		{"v1 header on v2", withHeaders(v2(v2Event("a")), "Amazon-Ads-ClientId", "", "Amazon-Advertising-API-ClientId", "cid"), Faults{}, 400, "BAD_REQUEST", "v2", "1", "ACCT", ""},
		{"not JSON", call{path: pathV2, body: []byte("{")}, Faults{}, 400, "BAD_REQUEST", "v2", "unknown", "ACCT", "cid"},
		{"no events", v2(), Faults{}, 400, "BAD_REQUEST", "v2", "0", "ACCT", "cid"},
		{"501 events", v2(many...), Faults{}, 400, "BAD_REQUEST", "v2", "501", "ACCT", "cid"},
		{"v1 wrong method", call{path: pathV1, body: map[string]any{"ingestionMethod": "BROWSER", "eventData": []any{v1Event("a"), v1Event("b")}}}, Faults{}, 400, "BAD_REQUEST", "v1", "2", "ACCT", "cid"},
		{"too large", call{path: pathV2, body: []byte(`{"events":["` + strings.Repeat("x", maxPayload) + `"]}`)}, Faults{}, 413, "CONTENT_TOO_LARGE", "v2", "unknown", "ACCT", "cid"},
		{"GET", call{method: http.MethodGet, path: pathV1}, Faults{}, 405, "BAD_REQUEST", "v1", "unknown", "ACCT", "cid"},
		{"fault", v2(v2Event("a"), v2Event("b"), v2Event("c")), Faults{Status: 503}, 503, "INTERNAL_ERROR", "v2", "3", "ACCT", "cid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(Config{Faults: c.faults})
			if got := c.call.do(t, s); got.status != c.status || got.body["code"] != c.code {
				t.Fatalf("%d %s, want %d %s", got.status, got.raw, c.status, c.code)
			}
			kept := s.Refused()
			if len(kept) != 1 {
				t.Fatalf("kept %d refused calls", len(kept))
			}
			r := kept[0]
			if r.Status != c.status || r.Code != c.code || r.API != c.api || r.Message == "" || !r.Time.Equal(now) ||
				r.AccountID != c.account || r.ClientID != c.client || r.Fault != (c.faults.Status != 0) {
				t.Errorf("kept %+v", r)
			}
			if got := jsonCount(r.EventCount); got != c.count {
				t.Errorf("event count %s, want %s", got, c.count)
			}
			if len(s.Received()) != 0 {
				t.Errorf("a refused call kept events")
			}

			// The JSON lists it with the same fields.
			list := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/refused", nil))
			items, _ := list.body["refused"].([]any)
			if list.status != 200 || len(items) != 1 {
				t.Fatalf("/sandbox/refused: %d %s", list.status, list.raw)
			}
			item := items[0].(map[string]any)
			if item["status"] != float64(c.status) || item["code"] != c.code || item["api"] != c.api || item["message"] != r.Message ||
				item["accountId"] != c.account || item["clientId"] != c.client || item["fault"] != r.Fault || jsonCount(item["eventCount"]) != c.count {
				t.Errorf("/sandbox/refused: %s", list.raw)
			}

			// The page shows it as a row.
			page := string(serve(t, s, httptest.NewRequest(http.MethodGet, "/", nil)).raw)
			class := "refused"
			if r.Fault {
				class += " fault"
			}
			for _, want := range []string{
				fmt.Sprintf(`<tr class="%s" data-api="%s" data-status="%d" data-code="%s">`, class, c.api, c.status, c.code),
				`<td class="time">2026-11-25 12:00:00.000</td>`,
				fmt.Sprintf(`<td class="api">%s</td><td class="status">%d</td><td class="code">%s</td>`, c.api, c.status, c.code),
				`<td class="message">` + escaped(r.Message) + `</td>`,
				`<td class="event-count">` + c.count + `</td>`,
				`<td class="account"><code>` + c.account + `</code></td><td class="client"><code>` + c.client + `</code></td>`,
				`<tr id="empty">`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(page, "No call has been refused") {
				t.Errorf("page says no call was refused")
			}
		})
	}
}

// withHeaders sets header name, value pairs on c.
func withHeaders(c call, kv ...string) call {
	c.headers = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		c.headers[kv[i]] = kv[i+1]
	}
	return c
}

// jsonCount words an event count (a decoded JSON number or nil, or an
// *int) as the page does.
func jsonCount(v any) string {
	switch n := v.(type) {
	case nil:
		return "unknown"
	case *int:
		if n == nil {
			return "unknown"
		}
		return fmt.Sprint(*n)
	}
	return fmt.Sprint(v)
}

// escaped escapes s as the page's template does in text.
func escaped(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

func TestAcceptedCallsAreNotListedAsRefused(t *testing.T) {
	s := newSandbox(Config{})
	bad := v2Event("bad")
	bad["countryCode"] = "XX"
	v2(v2Event("good"), bad).do(t, s) // 207, one event rejected: not refused whole
	if got := s.Refused(); len(got) != 0 {
		t.Errorf("refused %+v", got)
	}
	got := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/refused", nil))
	if got.status != 200 || string(got.raw) != "{\"refused\":[]}\n" {
		t.Errorf("%d %s", got.status, got.raw)
	}
	page := string(serve(t, s, httptest.NewRequest(http.MethodGet, "/", nil)).raw)
	if !strings.Contains(page, `<tr id="none-refused"><td colspan="8">No call has been refused whole.</td></tr>`) || strings.Contains(page, `<tr class="refused`) {
		t.Errorf("page lists a refused call")
	}
}

func TestRefusedCallsNeverShowTokensOrSecrets(t *testing.T) {
	s := New(Config{
		AccountID: "ACCT", ClientID: "cid",
		ClientSecret: "client-secret-value", RefreshToken: "Atzr|refresh-token-value",
		AccessTokens: []string{"static-token-value"},
		Now:          func() time.Time { return now },
	})
	grant := serve(t, s, grantRequest(url.Values{
		"grant_type": {"refresh_token"}, "client_id": {"cid"}, "client_secret": {"client-secret-value"}, "refresh_token": {"Atzr|refresh-token-value"},
	}))
	issued, _ := grant.body["access_token"].(string)
	if grant.status != 200 || issued == "" {
		t.Fatalf("grant: %d %s", grant.status, grant.raw)
	}
	calls := []call{
		withHeaders(v2(v2Event("a")), "Authorization", "Bearer wrong-token-value"),                                                 // 401
		withHeaders(v2(v2Event("a")), "Authorization", "Bearer static-token-value", "Amazon-Ads-AccountId", "client-secret-value"), // 403, secret as the account
		withHeaders(v2(v2Event("a")), "Authorization", "Bearer "+issued, "Amazon-Ads-ClientId", issued),                            // 403, token as the client
		withHeaders(v1(v1Event("a")), "Amazon-Advertising-API-ClientId", "Atzr|refresh-token-value"),                               // 403, refresh token as the client
		withHeaders(v1(v1Event("a")), "Amazon-Ads-AccountId", "static-token-value"),                                                // 403, static token as the account
		withHeaders(v2(v2Event("a")), "Amazon-Ads-AccountId", "Bearer some-other-token-value"),                                     // 403, a bearer credential
		withHeaders(v2(v2Event("a")), "Amazon-Ads-AccountId", "Atza|another-token-value"),                                          // 403, an LWA access token
	}
	for i, c := range calls {
		if c.headers["Authorization"] == "" {
			c.headers["Authorization"] = "Bearer static-token-value"
		}
		if got := c.do(t, s); got.status != 401 && got.status != 403 {
			t.Fatalf("call %d: %d %s", i, got.status, got.raw)
		}
	}
	s.SetFaults(Faults{Status: 429})
	withHeaders(v2(v2Event("a")), "Authorization", "Bearer "+issued).do(t, s) // fault

	if n := len(s.Refused()); n != len(calls)+1 {
		t.Fatalf("kept %d refused calls", n)
	}
	page := serve(t, s, httptest.NewRequest(http.MethodGet, "/", nil))
	list := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/refused", nil))
	for name, raw := range map[string][]byte{"page": page.raw, "/sandbox/refused": list.raw} {
		text := string(raw)
		for _, never := range []string{"wrong-token-value", "client-secret-value", "refresh-token-value", "static-token-value", "some-other-token-value", "another-token-value", issued, "Atza|", "Atzr|"} {
			if strings.Contains(text, never) {
				t.Errorf("%s shows %q", name, never)
			}
		}
		if got := strings.Count(text, hiddenID); got != 6 {
			t.Errorf("%s hides %d IDs, want 6", name, got)
		}
		if !strings.Contains(text, "ACCT") || !strings.Contains(text, "cid") {
			t.Errorf("%s does not show the IDs sent", name)
		}
	}
}

func TestLongIDsAreCut(t *testing.T) {
	s := newSandbox(Config{})
	long := strings.Repeat("é", maxShownID+50)
	withHeaders(v2(v2Event("a")), "Amazon-Ads-AccountId", long).do(t, s)
	got := s.Refused()[0].AccountID
	if got != strings.Repeat("é", maxShownID)+"…" {
		t.Errorf("account shown as %q", got)
	}
}

func TestRefusedCallsAreBoundedByKeepAndForgottenByReset(t *testing.T) {
	s := newSandbox(Config{Keep: 3})
	for i := range 5 {
		withHeaders(v2(v2Event("a")), "Amazon-Ads-AccountId", fmt.Sprintf("A%d", i)).do(t, s)
	}
	var accounts []string
	for _, r := range s.Refused() {
		accounts = append(accounts, r.AccountID)
	}
	if got := strings.Join(accounts, " "); got != "A4 A3 A2" {
		t.Errorf("kept %s, want A4 A3 A2 (newest first)", got)
	}
	got := s.Refused()
	*got[0].EventCount = 99
	if n := *s.Refused()[0].EventCount; n != 1 {
		t.Errorf("the kept count changed to %d", n)
	}
	call{path: "/sandbox/reset"}.do(t, s)
	if n := len(s.Refused()); n != 0 {
		t.Errorf("reset kept %d refused calls", n)
	}
}

func TestRefusedEndpointMethods(t *testing.T) {
	s := newSandbox(Config{})
	got := call{method: http.MethodPost, path: "/sandbox/refused"}.do(t, s)
	if got.status != 405 || got.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("%d %q", got.status, got.header.Get("Allow"))
	}
}

func TestConcurrentRefusalsAreSafe(t *testing.T) {
	s := newSandbox(Config{Keep: 20})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				s.ServeHTTP(httptest.NewRecorder(), withHeaders(v2(v2Event("a")), "Amazon-Ads-AccountId", fmt.Sprintf("A%d-%d", g, i)).request())
				s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/sandbox/refused", nil))
				s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			}
		})
	}
	wg.Wait()
	if n := len(s.Refused()); n != 20 {
		t.Errorf("kept %d", n)
	}
	if st := s.Stats(); st.Requests != 80 || st.Events != 0 {
		t.Errorf("stats %+v", st)
	}
}
