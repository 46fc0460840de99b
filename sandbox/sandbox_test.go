package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const hashedEmail = "094c3631869983a314789218efa658a0e99540c5f64aa919df6d8026392263d8"

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newSandbox(cfg Config) *Server {
	cfg.AccountID, cfg.ClientID = "ACCT", "cid"
	cfg.ClientSecret, cfg.RefreshToken = "secret", "refresh"
	cfg.AccessTokens = []string{"static"}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	return New(cfg)
}

func v2Event(id string) map[string]any {
	return map[string]any{
		"eventDescription": map[string]any{"name": "purchase", "conversionType": "OFF_AMAZON_PURCHASES", "eventSource": "WEBSITE", "eventIngestionMethod": "SERVER_TO_SERVER"},
		"eventTime":        now.Add(-time.Hour).Format(time.RFC3339),
		"eventId":          id,
		"countryCode":      "US",
		"value":            json.Number("129.95"),
		"currencyCode":     "USD",
		"matchKeys":        []any{map[string]any{"type": "EMAIL", "values": []any{hashedEmail}}, map[string]any{"type": "FIP", "values": []any{"203.0.113.7"}}},
		"customData":       []any{map[string]any{"name": "brand", "value": "acme_co", "dataType": "STRING"}},
		"consent":          map[string]any{"geo": map[string]any{"ipAddress": "203.0.113.7"}, "amazonConsent": map[string]any{"amznUserData": "GRANTED"}},
	}
}

func v1Event(id string) map[string]any {
	return map[string]any{
		"name": "purchase", "eventType": "OFF_AMAZON_PURCHASES", "eventActionSource": "WEBSITE",
		"timestamp": now.Add(-time.Hour).Format(time.RFC3339), "clientDedupeId": id, "countryCode": "US",
		"matchKeys":             []any{map[string]any{"type": "EMAIL", "values": []any{hashedEmail}}},
		"dataProcessingOptions": []any{"LIMITED_DATA_USE"},
	}
}

type call struct {
	path    string
	body    any
	headers map[string]string
}

func (c call) do(t *testing.T, s *Server) (*http.Response, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(c.body)
	if b, ok := c.body.([]byte); ok {
		raw = b
	}
	r := httptest.NewRequest(http.MethodPost, c.path, bytes.NewReader(raw))
	h := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer static", "Amazon-Ads-AccountId": "ACCT"}
	if c.path == "/events/v1" {
		h["Amazon-Advertising-API-ClientId"] = "cid"
	} else {
		h["Amazon-Ads-ClientId"] = "cid"
	}
	for k, v := range c.headers {
		h[k] = v
	}
	for k, v := range h {
		if v != "" {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Result(), out
}

func v2(events ...map[string]any) call {
	list := make([]any, len(events))
	for i, e := range events {
		list[i] = e
	}
	return call{path: "/adsApi/v1/create/events", body: map[string]any{"events": list}}
}

func errorsOf(out map[string]any) map[int][]string {
	got := map[int][]string{}
	for _, e := range out["error"].([]any) {
		m := e.(map[string]any)
		idx := int(m["index"].(float64))
		if errs, ok := m["errors"].([]any); ok {
			for _, fe := range errs {
				f := fe.(map[string]any)
				got[idx] = append(got[idx], fmt.Sprint(f["code"], " ", f["fieldLocation"]))
			}
		}
		if subs, ok := m["subErrors"].([]any); ok {
			for _, fe := range subs {
				f := fe.(map[string]any)
				got[idx] = append(got[idx], fmt.Sprint(f["errorType"]))
			}
		}
	}
	return got
}

func TestValidBatchIsAcceptedWith207(t *testing.T) {
	s := newSandbox(Config{})
	resp, out := v2(v2Event("a"), v2Event("b")).do(t, s)
	if resp.StatusCode != 207 || len(out["success"].([]any)) != 2 || len(out["error"].([]any)) != 0 {
		t.Fatalf("%d %v", resp.StatusCode, out)
	}
	got := s.Received()
	if len(got) != 2 || got[0].EventID != "b" || !got[0].Accepted || got[0].MatchKeyTypes[0] != "EMAIL" || *got[0].Value != 129.95 {
		t.Errorf("received %+v", got)
	}
}

func TestBadEventsAreRejectedByIndexWithAmazonsCodes(t *testing.T) {
	cases := []struct {
		name   string
		change func(map[string]any)
		want   string
	}{
		{"raw email", func(e map[string]any) {
			e["matchKeys"] = []any{map[string]any{"type": "EMAIL", "values": []any{"jane@example.com"}}}
		}, "FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"},
		{"uppercase hash", func(e map[string]any) {
			e["matchKeys"] = []any{map[string]any{"type": "PHONE", "values": []any{strings.ToUpper(hashedEmail)}}}
		}, "FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"},
		{"bad FIP", func(e map[string]any) {
			e["matchKeys"] = []any{map[string]any{"type": "FIP", "values": []any{"localhost"}}}
		}, "FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"},
		{"two values", func(e map[string]any) {
			e["matchKeys"] = []any{map[string]any{"type": "MAID", "values": []any{"a", "b"}}}
		}, "FIELD_SIZE_IS_OUT_OF_RANGE events[1].matchKeys[0].values"},
		{"no match keys", func(e map[string]any) { e["matchKeys"] = []any{} }, "FIELD_SIZE_IS_OUT_OF_RANGE events[1].matchKeys"},
		{"missing country", func(e map[string]any) { delete(e, "countryCode") }, "FIELD_VALUE_IS_NULL events[1].countryCode"},
		{"bad country", func(e map[string]any) { e["countryCode"] = "XX" }, "FIELD_VALUE_IS_INVALID events[1].countryCode"},
		{"bad currency", func(e map[string]any) { e["currencyCode"] = "usd" }, "FIELD_VALUE_IS_INVALID events[1].currencyCode"},
		{"bad type", func(e map[string]any) {
			e["eventDescription"].(map[string]any)["conversionType"] = "PURCHASE"
		}, "FIELD_VALUE_IS_INVALID events[1].eventDescription.conversionType"},
		{"three decimals", func(e map[string]any) { e["value"] = json.Number("1.005") }, "FIELD_VALUE_IS_INVALID events[1].value"},
		{"negative purchase", func(e map[string]any) { e["value"] = json.Number("-1") }, "FIELD_VALUE_IS_BELOW_MINIMUM_LIMIT events[1].value"},
		{"too old", func(e map[string]any) { e["eventTime"] = now.Add(-22 * 24 * time.Hour).Format(time.RFC3339) }, "DATE_CANNOT_BE_IN_PAST events[1].eventTime"},
		{"future", func(e map[string]any) { e["eventTime"] = now.Add(2 * time.Hour).Format(time.RFC3339) }, "FIELD_VALUE_IS_OUT_OF_RANGE events[1].eventTime"},
		{"bad time", func(e map[string]any) { e["eventTime"] = "yesterday" }, "FIELD_VALUE_IS_INVALID events[1].eventTime"},
		{"custom chars", func(e map[string]any) {
			e["customData"] = []any{map[string]any{"name": "brand", "value": "Acme Co."}}
		}, "FIELD_VALUE_CONTAINS_INVALID_CHARACTERS events[1].customData[0].value"},
		{"consent status", func(e map[string]any) {
			e["consent"] = map[string]any{"amazonConsent": map[string]any{"amznUserData": "YES"}}
		}, "FIELD_VALUE_IS_INVALID events[1].consent.amazonConsent.amznUserData"},
		{"long user agent", func(e map[string]any) {
			e["deviceInfo"] = map[string]any{"userAgent": strings.Repeat("a", 513)}
		}, "FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT events[1].deviceInfo.userAgent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := v2Event("bad")
			c.change(bad)
			resp, out := v2(v2Event("ok1"), bad, v2Event("ok2")).do(t, newSandbox(Config{}))
			if resp.StatusCode != 207 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			errs := errorsOf(out)
			if len(errs) != 1 || !strings.Contains(strings.Join(errs[1], "|"), c.want) {
				t.Errorf("errors %v, want %q at index 1 only", errs, c.want)
			}
			if len(out["success"].([]any)) != 2 {
				t.Errorf("success %v", out["success"])
			}
		})
	}
}

func TestV1IsOneBasedWithASevenDayWindow(t *testing.T) {
	s := newSandbox(Config{})
	old := v1Event("old")
	old["timestamp"] = now.Add(-8 * 24 * time.Hour).Format(time.RFC3339)
	body := map[string]any{"ingestionMethod": "SERVER_TO_SERVER", "eventData": []any{v1Event("a"), old}}
	resp, out := call{path: "/events/v1", body: body}.do(t, s)
	if resp.StatusCode != 207 {
		t.Fatalf("status %d %v", resp.StatusCode, out)
	}
	if idx := out["success"].([]any)[0].(map[string]any)["index"]; idx != 1.0 {
		t.Errorf("success index %v, want 1", idx)
	}
	if errs := errorsOf(out); len(errs[2]) != 1 || errs[2][0] != "DATE_CANNOT_BE_IN_PAST" {
		t.Errorf("errors %v, want index 2 too old", errs)
	}
	body["ingestionMethod"] = "BROWSER"
	if resp, _ := (call{path: "/events/v1", body: body}).do(t, s); resp.StatusCode != 400 {
		t.Errorf("wrong ingestionMethod: %d", resp.StatusCode)
	}
}

func TestHeadersAndTokensAreChecked(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"no token", map[string]string{"Authorization": ""}, 401},
		{"unknown token", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"no account", map[string]string{"Amazon-Ads-AccountId": ""}, 400},
		{"wrong account", map[string]string{"Amazon-Ads-AccountId": "OTHER"}, 403},
		{"no client", map[string]string{"Amazon-Ads-ClientId": ""}, 400},
		{"wrong client", map[string]string{"Amazon-Ads-ClientId": "x"}, 403},
		{"not JSON", map[string]string{"Content-Type": "text/plain"}, 400},
	}
	for _, c := range cases {
		c2 := v2(v2Event("a"))
		c2.headers = c.headers
		resp, out := c2.do(t, newSandbox(Config{}))
		if resp.StatusCode != c.status || out["code"] == nil {
			t.Errorf("%s: %d %v, want %d with a code", c.name, resp.StatusCode, out, c.status)
		}
	}
}

func grant(t *testing.T, s *Server, secret string) (int, map[string]any) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"refresh"}, "client_id": {"cid"}, "client_secret": {secret}}
	r := httptest.NewRequest(http.MethodPost, "/auth/o2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

func TestIssuedTokensWorkUntilTheyExpire(t *testing.T) {
	clock := now
	s := newSandbox(Config{Now: func() time.Time { return clock }})
	if code, out := grant(t, s, "wrong"); code != 401 || out["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", code, out)
	}
	code, out := grant(t, s, "secret")
	if code != 200 || out["expires_in"] != 3600.0 {
		t.Fatalf("grant: %d %v", code, out)
	}
	c := v2(v2Event("a"))
	c.headers = map[string]string{"Authorization": "Bearer " + out["access_token"].(string)}
	if resp, _ := c.do(t, s); resp.StatusCode != 207 {
		t.Errorf("issued token refused: %d", resp.StatusCode)
	}
	clock = clock.Add(time.Hour + time.Second)
	if resp, _ := c.do(t, s); resp.StatusCode != 401 {
		t.Errorf("expired token: %d, want 401", resp.StatusCode)
	}
	if s.Stats().TokenGrants != 1 {
		t.Errorf("grants %d", s.Stats().TokenGrants)
	}
}

func TestWholeRequestErrors(t *testing.T) {
	s := newSandbox(Config{})
	many := make([]map[string]any, 501)
	for i := range many {
		many[i] = v2Event(fmt.Sprint(i))
	}
	for name, c := range map[string]call{
		"no events":   v2(),
		"501 events":  v2(many...),
		"not JSON":    {path: "/adsApi/v1/create/events", body: []byte("{")},
		"events null": {path: "/adsApi/v1/create/events", body: map[string]any{}},
	} {
		if resp, out := c.do(t, s); resp.StatusCode != 400 || out["code"] != "BAD_REQUEST" {
			t.Errorf("%s: %d %v", name, resp.StatusCode, out)
		}
	}
	big := call{path: "/adsApi/v1/create/events", body: []byte(`{"events":["` + strings.Repeat("x", 5<<20) + `"]}`)}
	if resp, out := big.do(t, s); resp.StatusCode != 413 || out["code"] != "CONTENT_TOO_LARGE" {
		t.Errorf("5 MiB: %d %v", resp.StatusCode, out)
	}
}

func TestFaultsFailTheFirstCallsThenRecover(t *testing.T) {
	s := newSandbox(Config{Faults: Faults{Status: 503, FailFirst: 2, RetryAfter: 3}})
	for i, want := range []int{503, 503, 207} {
		resp, _ := v2(v2Event("a")).do(t, s)
		if resp.StatusCode != want {
			t.Errorf("call %d: %d, want %d", i, resp.StatusCode, want)
		}
		if want == 503 && resp.Header.Get("Retry-After") != "3" {
			t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
	}
	// Faults can be changed at run time over HTTP.
	r := httptest.NewRequest(http.MethodPost, "/sandbox/faults", strings.NewReader(`{"status":429,"fail_first":1}`))
	s.ServeHTTP(httptest.NewRecorder(), r)
	if resp, _ := v2(v2Event("a")).do(t, s); resp.StatusCode != 429 {
		t.Errorf("after POST /sandbox/faults: %d", resp.StatusCode)
	}
}

func TestDelayEndsWhenTheCallerGivesUp(t *testing.T) {
	s := newSandbox(Config{Faults: Faults{Delay: time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodPost, "/adsApi/v1/create/events", strings.NewReader("{}")).WithContext(ctx)
	done := make(chan struct{})
	go func() {
		s.ServeHTTP(httptest.NewRecorder(), r)
		close(done)
	}()
	cancel()
	<-done // returns instead of waiting an hour
}

func TestKeepsTheNewestEventsAndThePageShowsNoValues(t *testing.T) {
	s := newSandbox(Config{Keep: 3})
	for i := 0; i < 5; i++ {
		v2(v2Event(fmt.Sprintf("ev-%d", i))).do(t, s)
	}
	got := s.Received()
	if len(got) != 3 || got[0].EventID != "ev-4" || got[2].EventID != "ev-2" {
		t.Errorf("kept %v", ids(got))
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	page, _ := io.ReadAll(w.Body)
	if !bytes.Contains(page, []byte(`data-event-id="ev-4"`)) || bytes.Contains(page, []byte(hashedEmail)) || bytes.Contains(page, []byte("203.0.113.7")) {
		t.Errorf("page lacks the event or shows match-key values:\n%s", page)
	}
	w = httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/sandbox/events", nil))
	var list struct {
		Stats  Stats      `json:"stats"`
		Events []Received `json:"events"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || list.Stats.Events != 5 || len(list.Events) != 3 {
		t.Errorf("list %+v %v", list.Stats, err)
	}
}

func ids(rs []Received) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.EventID)
	}
	return out
}
