package caddymodule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape reads Caddy's /metrics (see scrapeOK).
func scrape(t *testing.T) string {
	t.Helper()
	return scrapeOK(t, "scrape")
}

func metricValue(t *testing.T, text, name string, labels ...string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if ok {
			f, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			return f
		}
	}
	return 0
}

func TestMetricsSurviveReloadsAndKeepCounting(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	cfg := shopConfig(t, site, bare, sb, up.URL)
	loadCaddy(t, cfg, "caddyfile")
	account := fmt.Sprintf("ACCT-%d", site)
	dest := fmt.Sprintf(`destination="%s@127.0.0.1:%d"`, account, sb)
	for i := 0; i < 4; i++ {
		if i > 0 {
			postConfig(t, cfg) // three reloads of the same config
		}
		body := strings.Replace(checkoutBody, "ORD-42", fmt.Sprintf("ORD-M%d", i), 1)
		doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(body), false,
			map[string]string{"Content-Type": "application/json"}))
		awaitReceived(t, sandboxServer(t, account), i+1)
	}
	var text string
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, text, "caddy_amazon_capi_events_total", dest, `outcome="sent"`) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("sent never reached 4:\n%s", text)
		}
		text = scrape(t) // the sent counter moves just after the sandbox answers
	}
	if got := metricValue(t, text, "caddy_amazon_capi_events_total", dest, `event="purchase"`, `outcome="matched"`); got != 4 {
		t.Errorf("matched = %v, want 4 across three reloads\n%s", got, text)
	}
	for _, name := range []string{"caddy_amazon_capi_queue_depth", "caddy_amazon_capi_spool_bytes", "caddy_amazon_capi_oldest_event_age_seconds", "caddy_amazon_capi_spool_sync_failures_total", "caddy_amazon_capi_batch_duration_seconds_count", "caddy_amazon_capi_token_refresh_total"} {
		if !regexp.MustCompile(`(?m)^` + name + `\{[^}]*` + regexp.QuoteMeta(dest)).MatchString(text) {
			t.Errorf("%s for the destination missing", name)
		}
	}
	if metricValue(t, text, "caddy_amazon_capi_token_refresh_total", dest, `result="ok"`) != 1 {
		t.Error("the token should have been fetched once and cached across reloads")
	}
	// Under Caddy's namespace only: the names without caddy_ were never
	// released.
	if regexp.MustCompile(`(?m)^amazon_capi_`).MatchString(text) {
		t.Error("metrics without Caddy's namespace are served")
	}
	for _, pii := range []string{"Jane", "jane", "example.com", "test-secret", "test-refresh"} {
		if strings.Contains(text, pii) {
			t.Errorf("metrics contain %q", pii)
		}
	}
}
