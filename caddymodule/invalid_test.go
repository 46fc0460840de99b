package caddymodule

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// TestInvalidEventsAreCountedByFieldAndReason: "invalid 3" is not enough
// to act on; the admin JSON, /metrics and the status page count them by
// event, field and a fixed reason. The admin JSON's spool names the
// directory that is on disk.
func TestInvalidEventsAreCountedByFieldAndReason(t *testing.T) {
	site, sb := freePort(), freePort()
	account := fmt.Sprintf("ACCT-%d", site)
	module := amazonCAPI().sandboxAt(sb).account(account).spool(t.TempDir()).
		event(purchase().currency("body.order.currency").country("body.country").
			match("method POST", "path /checkout").dedupeID("body.order.id").key("EMAIL", "body.customer.email"))
	loadCaddy(t, fixture().site(site, module, respondOK).sandboxSite(sb, account).String(), "caddyfile")
	post := func(body string) {
		doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(body), false,
			map[string]string{"Content-Type": "application/json"}))
	}
	post(`{"order":{"id":"I-1"},"country":"US","customer":{"email":"a@b.example"}}`) // no currency
	post(`{"order":{"id":"I-2"},"country":"US","customer":{"email":"a@b.example"}}`) // no currency
	post(`{"order":{"id":"I-3","currency":"USD"},"country":"XX","customer":{"email":"a@b.example"}}`)

	var status []DestinationStatus
	adminGet(t, "GET", "/amazon_capi/", &status)
	var mine DestinationStatus
	for _, d := range status {
		if strings.HasPrefix(d.Destination, account+"@") {
			mine = d
		}
	}
	want := []InvalidCount{{Event: "purchase", Field: "currency", Reason: "no_value", Count: 2}, {Event: "purchase", Field: "country", Reason: "not_a_valid_code", Count: 1}}
	if mine.Invalid != 3 || fmt.Sprint(mine.InvalidBy) != fmt.Sprint(want) {
		t.Errorf("invalid %d by %+v, want 3 by %+v", mine.Invalid, mine.InvalidBy, want)
	}
	if _, err := os.Stat(mine.Spool); err != nil || !strings.HasSuffix(mine.Spool, ".spool") {
		t.Errorf("the admin JSON's spool %q is not the directory on disk: %v", mine.Spool, err)
	}
	text := scrape(t)
	for _, line := range []string{
		fmt.Sprintf(`caddy_amazon_capi_invalid_events_total{destination="%s",event="purchase",field="currency",reason="no_value"} 2`, mine.Destination),
		fmt.Sprintf(`caddy_amazon_capi_invalid_events_total{destination="%s",event="purchase",field="country",reason="not_a_valid_code"} 1`, mine.Destination),
	} {
		if !strings.Contains(text, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	resp, err := adminClient.Get(fmt.Sprintf("http://localhost:%d/amazon_capi/status", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "purchase currency: no_value 2") || !strings.Contains(string(page), "purchase country: not_a_valid_code 1") {
		t.Errorf("the status page does not say why events were invalid:\n%s", page)
	}
}
