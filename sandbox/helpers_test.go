package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

// hashedEmail is SHA-256("jane@example.com").
const hashedEmail = "8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eeeb428407d43b52d"

const (
	pathV2 = "/adsApi/v1/create/events"
	pathV1 = "/events/v1"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// clock is a fake clock a test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newSandbox returns a sandbox with credentials set and the clock at now.
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
		"matchKeys":        []any{key("EMAIL", hashedEmail), key("FIP", "203.0.113.7")},
		"customData":       []any{map[string]any{"name": "brand", "value": "acme_co", "dataType": "STRING"}},
		"consent":          map[string]any{"geo": map[string]any{"ipAddress": "203.0.113.7"}, "amazonConsent": map[string]any{"amznUserData": "GRANTED"}},
	}
}

func v1Event(id string) map[string]any {
	return map[string]any{
		"name": "purchase", "eventType": "OFF_AMAZON_PURCHASES", "eventActionSource": "WEBSITE",
		"timestamp": now.Add(-time.Hour).Format(time.RFC3339), "clientDedupeId": id, "countryCode": "US",
		"matchKeys":             []any{key("EMAIL", hashedEmail)},
		"value":                 json.Number("10.5"),
		"currencyCode":          "EUR",
		"unitsSold":             json.Number("2"),
		"customAttributes":      []any{map[string]any{"name": "brand", "value": "acme"}},
		"dataProcessingOptions": []any{"LIMITED_DATA_USE"},
		"consent":               map[string]any{"amazonConsent": map[string]any{"amznUserData": "DENIED"}},
	}
}

func key(typ string, values ...any) map[string]any {
	return map[string]any{"type": typ, "values": values}
}

// call is one request to the sandbox; headers override the good defaults
// and an empty header value removes the header.
type call struct {
	method  string
	path    string
	body    any // marshalled as JSON unless []byte
	headers map[string]string
}

type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (c call) request() *http.Request {
	raw, ok := c.body.([]byte)
	if !ok {
		raw, _ = json.Marshal(c.body)
	}
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	r := httptest.NewRequest(method, c.path, bytes.NewReader(raw))
	r.Host = "localhost:8081"
	h := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer static", "Amazon-Ads-AccountId": "ACCT"}
	if c.path == pathV1 {
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
	return r
}

func serve(t *testing.T, h http.Handler, r *http.Request) reply {
	t.Helper()
	if r.Host == "example.com" { // httptest's default: the sandbox's page answers at localhost
		r.Host = "localhost:8081"
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	out := reply{status: w.Code, header: w.Header(), raw: w.Body.Bytes()}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(out.raw, &out.body); err != nil {
			t.Fatalf("answer is not JSON: %v\n%s", err, out.raw)
		}
	}
	return out
}

func (c call) do(t *testing.T, s http.Handler) reply {
	t.Helper()
	return serve(t, s, c.request())
}

func v2(events ...map[string]any) call {
	return call{path: pathV2, body: map[string]any{"events": list(events)}}
}

func v1(events ...map[string]any) call {
	return call{path: pathV1, body: map[string]any{"ingestionMethod": "SERVER_TO_SERVER", "eventData": list(events)}}
}

func list(events []map[string]any) []any {
	out := make([]any, len(events))
	for i, e := range events {
		out[i] = e
	}
	return out
}

// indexes returns the indexes listed in a 207 answer's success or error list.
func (r reply) indexes(which string) []int {
	var out []int
	items, _ := r.body[which].([]any)
	for _, it := range items {
		out = append(out, int(it.(map[string]any)["index"].(float64)))
	}
	sort.Ints(out)
	return out
}

// errorsAt lists "CODE fieldLocation" (v2) or "TYPE message" (v1) per index.
func (r reply) errorsAt() map[int][]string {
	got := map[int][]string{}
	items, _ := r.body["error"].([]any)
	for _, e := range items {
		m := e.(map[string]any)
		idx := int(m["index"].(float64))
		errs, _ := m["errors"].([]any)
		for _, fe := range errs {
			f := fe.(map[string]any)
			got[idx] = append(got[idx], fmt.Sprint(f["code"], " ", f["fieldLocation"]))
		}
		subs, _ := m["subErrors"].([]any)
		for _, fe := range subs {
			f := fe.(map[string]any)
			got[idx] = append(got[idx], fmt.Sprint(f["errorType"], " ", f["errorMessage"]))
		}
	}
	return got
}

func ids(rs []Received) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.EventID)
	}
	return out
}

func equalInts(a, b []int) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}
