package sandbox

import (
	"net/http"
	"net/http/httptest"
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
