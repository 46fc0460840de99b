package caddymodule

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// TestTheBrowserGetsExactlyTheEventIDAmazonGets: an order ID with bytes a
// header or a cookie cannot carry as they are (NUL, ESC, '"', ';', '\',
// space, non-ASCII) reaches the header, the cookie and Amazon as the same
// string; an ID longer than the limit gives no event (counted, too_long);
// the cookie is Secure behind a trusted proxy that says HTTPS.
func TestTheBrowserGetsExactlyTheEventIDAmazonGets(t *testing.T) {
	site, sb := freePort(), freePort()
	account := fmt.Sprintf("EID-%d", site)
	module := amazonCAPI().sandboxAt(sb).account(account).spool(t.TempDir()).flushInterval(10 * time.Millisecond).
		event(purchase().match("path /checkout").dedupeID("query.order").
			set("event_id_header", "X-Amazon-Event-Id").set("event_id_cookie", "amzn_eid"))
	config := fixture()
	config.globals = append(config.globals, block("servers", "trusted_proxies static 127.0.0.1/32"))
	loadCaddy(t, config.site(site, module, respondOK).sandboxSite(sb, account).String(), "caddyfile")
	amazon := sandboxServer(t, account)

	raw := "A\x00B\x1bC\"D;E\\F G,é%"
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/checkout?order=%s", site, url.QueryEscape(raw)), nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	header := resp.Header.Get("X-Amazon-Event-Id")
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "amzn_eid" {
			cookie = c
		}
	}
	got := awaitReceived(t, amazon, 1)
	want := mapping.SafeEventID(raw)
	if want != "A%00B%1BC%22D%3BE%5CF%20G%2C%C3%A9%25" {
		t.Fatalf("SafeEventID(%q) = %q", raw, want)
	}
	if cookie == nil || header != want || cookie.Value != want || got[0].EventID != want {
		t.Fatalf("header %q, cookie %+v, Amazon %q; want all %q", header, cookie, got[0].EventID, want)
	}
	if !cookie.Secure {
		t.Error("the eventId cookie is not Secure behind a trusted proxy that says X-Forwarded-Proto: https")
	}

	long := strings.Repeat("L", mapping.MaxEventIDBytes+1)
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/checkout?order=%s", site, long))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Amazon-Event-Id") != "" {
		t.Errorf("a too long ID: status %d, header %q; want the site's answer and no ID", resp.StatusCode, resp.Header.Get("X-Amazon-Event-Id"))
	}
	for _, d := range liveDestinations() {
		if strings.HasPrefix(d.settings.label(), account+"@") {
			if c := d.confirmations.invalidCounts(); len(c) != 1 || c[0].Field != "dedupe_id" || c[0].Reason != "too_long" {
				t.Errorf("invalid %+v, want one dedupe_id too_long", c)
			}
		}
	}
}

// Event ID header and cookie names are checked when the config loads (and
// so by caddy validate): one with a space or ';' would send nothing.
func TestEventIDHeaderAndCookieNamesAreChecked(t *testing.T) {
	for _, bad := range []struct{ option, name string }{
		{"event_id_cookie", `"amzn eid"`}, {"event_id_cookie", "a;b"}, {"event_id_header", "X:Id"}, {"event_id_header", `"X Id"`},
	} {
		module := amazonCAPI().account("NAMES").dryRun().event(purchase().match("path /checkout").set(bad.option, bad.name))
		err := validate(t, fixture().site(freePort(), module, respondOK).String())
		if err == nil || !strings.Contains(err.Error(), bad.option) || !strings.Contains(err.Error(), "not a valid name") {
			t.Errorf("%s %s: %v", bad.option, bad.name, err)
		}
	}
}
