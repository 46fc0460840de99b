package caddymodule

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAnEUEventWithoutConsentWarnsAtLoadAndIsNotSentWithoutAnySignal(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "caddy.log")
	site, sb := freePort(), freePort()
	module := amazonCAPI().region("eu").sandboxAt(sb).account(fmt.Sprintf("EU-%d", site)).spool(dir).flushInterval(5*time.Millisecond).event(
		signup().match("path /signup").country("DE").key("EMAIL", "query.email").set("consent_ip", "-"),
		event("lead", "LEAD").match("path /lead").country("DE").key("EMAIL", "query.email").set("consent_tcf", "query.tcf"))
	cfg := fixture().logTo(logFile, "level DEBUG").site(site, module, respondOK).sandboxSite(sb, "").String()
	loadCaddy(t, cfg, "caddyfile")
	doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/signup?email=a%%40b.example", site), nil, false, nil))
	doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/lead?email=a%%40b.example&tcf=CPXxRfA", site), nil, false, nil))
	got := awaitReceived(t, sandboxAt(t, sb), 1)
	if len(got) != 1 || got[0].ConversionType != "LEAD" {
		t.Errorf("received %+v: only the lead, which carries a TCF string, may be sent", got)
	}
	if d := findDestination(t, fmt.Sprintf("EU-%d", site)); d.confirmations.totals().invalid != 1 {
		t.Errorf("invalid %d, want the consent-less signup counted", d.confirmations.totals().invalid)
	}
	raw, _ := os.ReadFile(logFile)
	log := string(raw)
	if !strings.Contains(log, "consent signal for EU advertisers") || !strings.Contains(log, `"event":"signup"`) {
		t.Errorf("no load-time warning for the EU event without consent:\n%s", log)
	}
	if strings.Count(log, "consent signal for EU advertisers; this event maps none") != 1 {
		t.Errorf("want exactly one warning (for signup, not lead)")
	}
	if !strings.Contains(log, `Amazon requires a consent signal (geo IP, amazonConsent, TCF or GPP) for EU advertisers`) {
		t.Errorf("the refused signup is not logged with its reason")
	}
}
