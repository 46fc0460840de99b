package caddymodule

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNoPIIOrSecretLeavesInLogsSpoolDeadLetterOrMetrics runs a full
// scenario at debug level (accepted, invalid, rejected and dry-run events,
// a failing Amazon) with planted PII and secrets, then searches every file
// the module writes, the log and the metrics for them.
func TestNoPIIOrSecretLeavesInLogsSpoolDeadLetterOrMetrics(t *testing.T) {
	const secret, refresh = "S3CRET-client-secret-0xdead", "Atzr|PLANTED-refresh-token"
	pii := []string{"planted.person@example.org", "Planted.Person", "4155550199", "+1 415 555 0199", "Zebediah", "Quixote"}
	t.Setenv("PLANTED_SECRET", secret)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "refresh"), []byte(refresh), 0o600)
	logFile := filepath.Join(dir, "caddy.log")
	site, dry, sb := freePort(), freePort(), freePort()
	buy := purchase().match("path /checkout").dedupeID("query.order").set("timestamp", "query.at").country("query.country").
		key("EMAIL", "query.email").key("PHONE", "query.phone").key("FIRST_NAME", "query.first").key("LAST_NAME", "query.last")
	account := fmt.Sprintf("PRIV-%d", site)
	cfg := fixture().logTo(logFile, "level DEBUG").
		site(site, amazonCAPI().sandboxAt(sb).account(account).
			credentials("c", "{env.PLANTED_SECRET}", "{file."+dir+"/refresh}").
			spool(dir+"/spool").flushInterval(5*time.Millisecond).event(buy), respondOK).
		site(dry, amazonCAPI().account("PRIV-DRY").dryRun().event(buy), respondOK).
		sandboxSite(sb, account, "client_secret "+secret).
		String()
	loadCaddy(t, cfg, "caddyfile")
	query := func(order, country, at string) string {
		return fmt.Sprintf("/checkout?order=%s&country=%s&at=%s&email=%s&phone=%s&first=%s&last=%s", order, country, at,
			"Planted.Person%40example.org", "%2B1+415+555+0199", "Zebediah", "Quixote")
	}
	now := time.Now().UTC().Format(time.RFC3339)
	old := time.Now().Add(-40 * 24 * time.Hour).UTC().Format(time.RFC3339)
	for _, path := range []string{query("P-1", "US", now), query("P-2", "Narnia", now), query("P-3", "US", old)} {
		doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d%s", site, path), nil, false, nil))
		doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d%s", dry, path), nil, false, nil))
	}
	awaitReceived(t, sandboxServer(t, fmt.Sprintf("PRIV-%d", site)), 1)
	d := findDestination(t, fmt.Sprintf("PRIV-%d", site))
	for d.forwarder.Stats().Rejected < 1 {
		time.Sleep(5 * time.Millisecond) // the old event is dead-lettered by the sender
	}
	if dryDest := findDestination(t, "PRIV-DRY"); dryDest.confirmations.totals().dryRun != 2 {
		t.Errorf("dry run built %d events, want 2 (one invalid)", dryDest.confirmations.totals().dryRun)
	}
	metrics := scrape(t)

	places := map[string]string{"metrics": metrics}
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Base(path) != "refresh" {
			raw, _ := os.ReadFile(path)
			places[path] = string(raw)
		}
		return nil
	})
	var sawLog, sawDead, sawSpool bool
	for where, text := range places {
		sawLog = sawLog || where == logFile && strings.Contains(text, "dry run: event built")
		sawDead = sawDead || strings.HasSuffix(where, ".dead.jsonl") && strings.Contains(text, "P-3")
		sawSpool = sawSpool || strings.HasSuffix(where, ".log") && strings.Contains(where, ".spool"+string(filepath.Separator))
		for _, planted := range append(pii, secret, refresh, "PLANTED-refresh") {
			if strings.Contains(strings.ToLower(text), strings.ToLower(planted)) {
				t.Errorf("%s contains %q", where, planted)
			}
		}
	}
	if !sawLog || !sawDead || !sawSpool {
		t.Errorf("searched the log %v, the dead letter %v, the spool %v: want all three", sawLog, sawDead, sawSpool)
	}
}
