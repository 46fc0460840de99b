package caddymodule

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestTheMatchQualityViewCountsEverySignalWithoutValues(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	loadCaddy(t, shopConfig(t, site, bare, sb, up.URL), "caddyfile")
	account := fmt.Sprintf("ACCT-%d", site)
	post := func(order, email string) {
		body := strings.NewReplacer("ORD-42", order, " Jane.Doe@Example.com ", email).Replace(checkoutBody)
		doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(body), false,
			map[string]string{"Content-Type": "application/json", "User-Agent": "Mozilla/5.0 quality"}))
	}
	post("Q-1", "jane.q1@example.com")
	post("Q-2", "jane.q2@example.com")
	post("Q-3", "not-an-email") // left out: the event keeps its IP only
	post("Q-4", "")             // none
	awaitReceived(t, sandboxServer(t, account), 4)

	var report []DestinationQuality
	adminGet(t, "GET", "/amazon_capi/quality", &report)
	var mine *EventQuality
	for _, d := range report {
		if strings.HasPrefix(d.Destination, account+"@") && len(d.Events) == 1 {
			mine = &d.Events[0]
		}
	}
	if mine == nil {
		t.Fatalf("no quality for %s: %+v", account, report)
	}
	keys := map[string]KeyShare{}
	for _, k := range mine.MatchKeys {
		keys[k.Type] = k
	}
	if mine.Name != "purchase" || mine.Events != 4 || mine.CoverageScore.Share != 0.5 || mine.HashedKey.Events != 2 ||
		mine.IP.Share != 1 || mine.UserAgent.Share != 1 || mine.ClickToken.Events != 0 ||
		keys["EMAIL"].Events != 2 || keys["EMAIL"].Invalid != 1 || keys["FIP"].Events != 4 {
		t.Errorf("quality %+v, keys %+v", mine, keys)
	}

	resp, err := adminClient.Get(fmt.Sprintf("http://localhost:%d/amazon_capi/status", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{account, "Match quality", "purchase", "50%", "EMAIL 50% (1 invalid)", "FIP 100%", coverageFormula} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	text := scrape(t)
	if !strings.Contains(text, `caddy_amazon_capi_match_quality_events_total{destination="`+account) || !strings.Contains(text, `signal="covered"`) {
		t.Error("the match-quality metrics are missing")
	}
	for _, pii := range []string{"jane.q1", "not-an-email", "example.com", "Mozilla"} {
		if strings.Contains(string(page), pii) || strings.Contains(text, pii) {
			t.Errorf("the status page or the metrics show %q", pii)
		}
	}
	onSite := doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/amazon_capi/status", site), nil, false, nil))
	if strings.Contains(onSite.Body, "Match quality") {
		t.Error("the site serves the status page")
	}
}
