package caddymodule

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A destination outlives configs; its logs follow the newest config's
// logging (ctx.Logger()), not the one that created it.
func TestADestinationLogsThroughTheNewestConfigsLogger(t *testing.T) {
	dir := t.TempDir()
	site := freePort()
	config := func(logFile string) string {
		return fixture().logTo(logFile).site(site, amazonCAPI().account("LOGS").dryRun().event(signup()), respondOK).String()
	}
	first, second := filepath.Join(dir, "first.log"), filepath.Join(dir, "second.log")
	get := func() { doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/", site), nil, false, nil)) }
	count := func(file string) int {
		raw, _ := os.ReadFile(file)
		return strings.Count(string(raw), "dry run: event built")
	}
	loadCaddy(t, config(first), "caddyfile")
	get()
	postConfig(t, config(second))
	get()
	get()
	if count(first) != 1 || count(second) != 2 {
		t.Errorf("dry-run lines: %d in the first config's log, %d in the second's; want 1 and 2", count(first), count(second))
	}
}

// Each log line of a destination names it once: a JSON log with the same key
// twice is one that many log pipelines reject.
func TestADestinationsLogLinesNameItOnce(t *testing.T) {
	dir := t.TempDir()
	site, down := freePort(), freePort()
	logFile := filepath.Join(dir, "caddy.log")
	module := amazonCAPI().set("endpoint", fmt.Sprintf("http://127.0.0.1:%d", down)).account("ONCE").accessToken("t").
		spool(dir).flushInterval(10 * time.Millisecond).event(signup())
	loadCaddy(t, fixture().logTo(logFile).site(site, module, respondOK).String(), "caddyfile")
	doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/", site), nil, false, nil))
	deadline := time.Now().Add(20 * time.Second)
	for {
		raw, _ := os.ReadFile(logFile)
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.Contains(line, "will retry") {
				if n := strings.Count(line, `"destination":`); n != 1 {
					t.Fatalf("the destination is named %d times in %s", n, line)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retry line logged; log:\n%s", raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTheDestinationsLinesCarryTheModulesLoggerName(t *testing.T) {
	logs, logger := observedLogger()
	live, _ := newLiveLogger(logger.Named("http.handlers.amazon_capi"))
	live.With().Info("from the forwarder")
	if e := logs.All(); len(e) != 1 || e[0].LoggerName != "http.handlers.amazon_capi" {
		t.Errorf("entries %+v", e)
	}
}
