package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestPageListsEventsWithoutMatchKeyValues(t *testing.T) {
	s := newSandbox(Config{})
	bad := v2Event("order-2")
	bad["matchKeys"] = []any{key("EMAIL", "jane@example.com"), key("PHONE", hashedEmail)}
	v2(v2Event("order-1"), bad).do(t, s)
	v1(v1Event(`<script>alert(1)</script>`)).do(t, s)

	for _, path := range []string{"/", "/sandbox/"} {
		got := serve(t, s, httptest.NewRequest(http.MethodGet, path, nil))
		page := string(got.raw)
		if got.status != 200 || !strings.HasPrefix(got.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", path, got.status, got.header.Get("Content-Type"))
		}
		for _, want := range []string{
			`<tr class="event accepted" data-event-id="order-1" data-api="v2" data-index="0">`,
			`<tr class="event rejected" data-event-id="order-2" data-api="v2" data-index="1">`,
			`<td class="keys">EMAIL, FIP</td>`, `<td class="keys">EMAIL, PHONE</td>`,
			`129.95 USD`, `10.5 EUR`, `OFF_AMAZON_PURCHASES`, `purchase`,
			`events[1].matchKeys[0].values[0]`, `FIELD_VALUE_IS_INVALID`,
			`not Amazon`, `<meta http-equiv="refresh" content="2">`,
			`<span id="stat-events">3</span>`, `<span id="stat-rejected">1</span>`,
			`&lt;script&gt;alert(1)&lt;/script&gt;`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		for _, never := range []string{hashedEmail, "jane@example.com", "203.0.113.7", "<script>", "http://", "https://"} {
			if strings.Contains(page, never) {
				t.Errorf("%s shows %q", path, never)
			}
		}
		if o1, o2 := strings.Index(page, `"order-1"`), strings.Index(page, `"order-2"`); o2 > o1 {
			t.Errorf("not newest first")
		}
	}
}

func TestEmptyPage(t *testing.T) {
	got := serve(t, New(Config{}), httptest.NewRequest(http.MethodGet, "/", nil))
	if got.status != 200 || !strings.Contains(string(got.raw), "Nothing has arrived yet") {
		t.Errorf("%d %s", got.status, got.raw)
	}
}

// eventLink is an event row's opening and its link to the event's JSON.
var eventLink = regexp.MustCompile(`data-event-id="([^"]*)"[^>]*>\s*<td class="number"><a class="json" href="([^"]+)">(\d+)</a></td>`)

func TestPageLinksEachEventToItsJSON(t *testing.T) {
	s := newSandbox(Config{})
	bad := v2Event("order-2")
	bad["countryCode"] = "XX"
	sent := map[string]map[string]any{"order-1": v2Event("order-1"), "order-2": bad, "v1-a": v1Event("v1-a")}
	v2(sent["order-1"], sent["order-2"]).do(t, s)
	v1(sent["v1-a"]).do(t, s)
	listed := map[string]any{} // eventId → its object in /sandbox/events
	for _, e := range serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/events", nil)).body["events"].([]any) {
		listed[e.(map[string]any)["eventId"].(string)] = e
	}

	for _, mount := range []struct {
		h     http.Handler
		pages []string
	}{
		{s, []string{"/", "/sandbox", "/sandbox/"}},
		{http.StripPrefix("/amazon", s), []string{"/amazon", "/amazon/", "/amazon/sandbox", "/amazon/sandbox/"}},
	} {
		for _, p := range mount.pages {
			page := serve(t, mount.h, httptest.NewRequest(http.MethodGet, p, nil))
			links := eventLink.FindAllStringSubmatch(string(page.raw), -1)
			var order []string
			for _, l := range links {
				order = append(order, l[1]+"#"+l[3])
			}
			if got := strings.Join(order, " "); got != "v1-a#3 order-2#2 order-1#1" {
				t.Fatalf("%s: links %q", p, got)
			}
			for _, l := range links {
				id, href := l[1], l[2]
				base, _ := url.Parse("http://sandbox.test" + p)
				ref, err := url.Parse(href)
				if err != nil || ref.IsAbs() || ref.Host != "" || strings.HasPrefix(href, "/") {
					t.Fatalf("%s: link %q is not relative", p, href)
				}
				target := base.ResolveReference(ref).Path
				got := serve(t, mount.h, httptest.NewRequest(http.MethodGet, target, nil))
				if got.status != 200 || got.body["eventId"] != id {
					t.Fatalf("%s: %s → %s: %d %s", p, href, target, got.status, got.raw)
				}
				// The event as received, in the same object /sandbox/events lists.
				if !reflect.DeepEqual(got.body["event"], roundTrip(t, sent[id])) {
					t.Errorf("%s: %s gives event %v, sent %v", p, target, got.body["event"], sent[id])
				}
				if !reflect.DeepEqual(map[string]any(got.body), listed[id]) {
					t.Errorf("%s: %s gives %s, /sandbox/events lists %v", p, target, got.raw, listed[id])
				}
			}
		}
	}
	got := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/events/2", nil))
	if got.body["accepted"] != false || got.body["errors"].([]any)[0].(map[string]any)["fieldLocation"] != "events[1].countryCode" {
		t.Errorf("the rejected event's JSON lacks its verdict: %s", got.raw)
	}
}

// roundTrip returns v as it reads back from JSON.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	var out any
	if err := json.Unmarshal([]byte(mustJSON(v)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOneEventEndpoint(t *testing.T) {
	s := newSandbox(Config{Keep: 2})
	v2(v2Event("a"), v2Event("b"), v2Event("c")).do(t, s) // numbers 1 to 3; 1 is no longer kept
	for _, c := range []struct {
		method, path string
		status       int
		eventID      string
	}{
		{"GET", "/sandbox/events/3", 200, "c"},
		{"HEAD", "/sandbox/events/2", 200, ""},
		{"GET", "/sandbox/events/1", 404, ""},
		{"GET", "/sandbox/events/4", 404, ""},
		{"GET", "/sandbox/events/0", 404, ""},
		{"GET", "/sandbox/events/-1", 404, ""},
		{"GET", "/sandbox/events/03", 404, ""},
		{"GET", "/sandbox/events/c", 404, ""},
		{"GET", "/sandbox/events/3/", 404, ""},
		{"GET", "/sandbox/events/", 404, ""},
		{"POST", "/sandbox/events/3", 405, ""},
	} {
		got := serve(t, s, httptest.NewRequest(c.method, c.path, nil))
		if got.status != c.status || c.eventID != "" && got.body["eventId"] != c.eventID {
			t.Errorf("%s %s: %d %s", c.method, c.path, got.status, got.raw)
		}
		if c.status == 404 && got.body["code"] != "NOT_FOUND" || c.status == 405 && got.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: %v %v", c.method, c.path, got.header, got.body)
		}
	}

	// Numbers go on after a reset, so an old link never shows another event.
	s.Reset()
	v2(v2Event("d")).do(t, s)
	if got := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/events/3", nil)); got.status != 404 {
		t.Errorf("a forgotten event's link: %d %s", got.status, got.raw)
	}
	if got := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/events/4", nil)); got.body["eventId"] != "d" {
		t.Errorf("%d %s", got.status, got.raw)
	}
	if r := s.Received(); r[0].Number != 4 {
		t.Errorf("number %d", r[0].Number)
	}
	if r, ok := s.ReceivedNumber(4); !ok || r.EventID != "d" {
		t.Errorf("ReceivedNumber(4) = %v, %v", r.EventID, ok)
	}
	if !strings.Contains(string(serve(t, s, httptest.NewRequest(http.MethodGet, "/", nil)).raw), `<a class="json" href="sandbox/events/4">4</a>`) {
		t.Errorf("page lacks the link to event 4")
	}
	if r := Check(json.RawMessage(mustJSON(v2Event("x"))), "v2", now); r.Number != 0 {
		t.Errorf("Check numbered its verdict %d", r.Number)
	}
}

func TestEventsListingShapeIsUnchanged(t *testing.T) {
	s := newSandbox(Config{})
	v2(v2Event("a")).do(t, s)
	withHeaders(v2(v2Event("b")), "Amazon-Ads-AccountId", "OTHER").do(t, s)
	got := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/events", nil))
	var top, keys []string
	for k := range got.body {
		top = append(top, k)
	}
	for k := range got.body["events"].([]any)[0].(map[string]any) {
		keys = append(keys, k)
	}
	sort.Strings(top)
	sort.Strings(keys)
	if fmt.Sprint(top) != "[events stats]" ||
		fmt.Sprint(keys) != "[accepted api conversionType currencyCode event eventId index matchKeyTypes name time value]" ||
		len(got.body["events"].([]any)) != 1 {
		t.Errorf("/sandbox/events is now %s", got.raw)
	}
}
