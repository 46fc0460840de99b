package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/forward"
)

func reloadConfig(site, sb int, spool string, batchSize int, withModule bool) string {
	account := fmt.Sprintf("RELOAD-%d", site)
	directives := []any{amazonCAPI().sandboxAt(sb).account(account).spool(spool).batchSize(batchSize).
		flushInterval(10 * time.Millisecond).event(purchase().match("path /checkout").dedupeID("query.order")), respondOK}
	if !withModule {
		directives = directives[1:] // respond only
	}
	return fixture().site(site, directives...).sandboxSite(sb, account, "keep 100000").String()
}

// postConfig loads cfg (a Caddyfile) through the admin endpoint, as
// `caddy reload` does.
func postConfig(t *testing.T, cfg string) {
	t.Helper()
	resp, err := adminClient.Post(fmt.Sprintf("http://localhost:%d/load", adminPort), "text/caddyfile", strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("reload: %d %s", resp.StatusCode, msg)
	}
	// The old config's server closes its idle connections as it shuts
	// down; a POST sent on one just before the client sees it closed is
	// not retried. The next request opens a connection to the new one.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// settledGoroutines waits for the goroutine count to stop falling and
// returns it.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n && i > 5 {
			return m
		}
		n = min(n, m)
	}
	return n
}

// awaitGoroutines waits until at most limit goroutines run, and fails the
// test with the count if that takes longer than 30 seconds: goroutines of
// closed connections and stopped servers end on their own time, more
// slowly on a loaded machine, but a leak never ends.
func awaitGoroutines(t *testing.T, limit int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= limit {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines after the reloads, want at most %d", n, limit)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// awaitEmptyForwarder waits until f holds no event, in memory or spooled.
func awaitEmptyForwarder(t *testing.T, f *forward.Forwarder) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.Stats().QueueDepth > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the forwarder still holds %d events", f.Stats().QueueDepth)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReloadsKeepTheDestinationAndLoseNothing(t *testing.T) {
	site, sb := freePort(), freePort()
	spool := t.TempDir()
	account := fmt.Sprintf("RELOAD-%d", site)
	loadCaddy(t, reloadConfig(site, sb, spool, 500, true), "caddyfile")
	client := &http.Client{Transport: &http.Transport{}}
	get := func(order int) bool {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/checkout?order=O-%d", site, order))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	get(-1)
	awaitReceived(t, sandboxServer(t, account), 1)
	client.CloseIdleConnections()
	baseline := settledGoroutines()
	first := findDestination(t, account)

	// Requests flow while the config is reloaded 100 times, alternating
	// batch_size between 1 and 500.
	var next atomic.Int64
	var answeredMu sync.Mutex
	var answered []int // the orders whose requests were answered
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if order := int(next.Add(1)); get(order) {
					answeredMu.Lock()
					answered = append(answered, order)
					answeredMu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < 100; i++ {
		postConfig(t, reloadConfig(site, sb, spool, 1+499*(i%2), true))
		if d := findDestination(t, account); d != first {
			t.Fatalf("reload %d replaced the destination (and its sender)", i)
		}
	}
	close(stop)
	wg.Wait()

	if bs := first.forwarder.Settings().BatchSize; bs != 500 {
		t.Errorf("batch size %d after the last reload set 500", bs)
	}
	// Every answered request's event arrives. A request the client saw
	// fail may still have reached the site and made an event, so the count
	// alone proves nothing: each answered order is looked up, and the
	// forwarder must have nothing left before Amazon starts failing below.
	awaitReceived(t, sandboxServer(t, account), len(answered)+1)
	awaitEmptyForwarder(t, first.forwarder)
	seen := map[string]bool{}
	for _, r := range sandboxServer(t, account).Received() {
		seen[r.EventID] = true
	}
	t.Logf("%d requests answered during 100 reloads, %d distinct events received", len(answered), len(seen))
	missing := 0
	for _, order := range append(answered, -1) {
		if !seen[fmt.Sprintf("O-%d", order)] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d answered requests' events never arrived", missing)
	}
	if st := first.forwarder.Stats(); st.Dropped != 0 {
		t.Errorf("dropped %d", st.Dropped)
	}
	n := 0
	destinations.Range(func(_, v any) bool {
		if v.(*liveDestination).settings.accountID == account {
			n++
		}
		return true
	})
	if n != 1 {
		t.Errorf("%d destinations for one account", n)
	}

	client.CloseIdleConnections()
	awaitGoroutines(t, baseline+5)

	// Removing the destination leaves unsent events in its spool.
	sandboxServer(t, account).SetFaults(sandboxFaults503())
	for i := 0; i < 20; i++ {
		get(100000 + i)
	}
	file := first.settings.spoolDir()
	postConfig(t, reloadConfig(site, sb, spool, 500, false))
	s, err := forward.OpenSpool(file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.Oldest(s.Len())
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, r := range recs {
		kept[r.ID()] = true
	}
	for i := 0; i < 20; i++ { // by ID: a stray event of a request the client saw fail may be there too
		if id := fmt.Sprintf("O-%d", 100000+i); !kept[id] {
			t.Errorf("the spool of the removed destination lacks %s (it holds %d events)", id, s.Len())
		}
	}
}

func TestAnEventBuiltAfterItsDestinationStoppedIsKept(t *testing.T) {
	s, err := (&Destination{Endpoint: "http://127.0.0.1:1", TokenURL: "http://127.0.0.1:1/t", AccountID: "LATE", ClientID: "c", AccessToken: "t", Spool: t.TempDir()}).resolve()
	if err != nil {
		t.Fatal(err)
	}
	d, err := acquireDestination(s, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	d.release() // the old config's Cleanup: the forwarder stops
	e := amazon.Event{EventID: "late-1", EventTime: time.Now().UTC().Format(time.RFC3339), CountryCode: "US"}
	d.enqueue(e, false) // a request the old config was still serving
	if d.confirmations.totals().lost != 0 {
		t.Fatal("the event was dropped")
	}
	spool, err := forward.OpenSpool(s.spoolDir())
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	recs, _ := spool.Oldest(10)
	if len(recs) != 1 || recs[0].ID() != "late-1" {
		t.Errorf("spool holds %v", recs)
	}
}

// TestAHandOverLeavesTheLiveDestinationAsItsConfigSetIt: an event built by
// a request of an old config, after that config's destination stopped,
// goes to the live destination of the same key without giving it the old
// config's batch size, credentials or logger.
func TestAHandOverLeavesTheLiveDestinationAsItsConfigSetIt(t *testing.T) {
	spool := t.TempDir()
	resolve := func(batch int, token string) settings {
		s, err := (&Destination{Endpoint: "http://127.0.0.1:1", TokenURL: "http://127.0.0.1:1/t", AccountID: "HANDOVER",
			ClientID: "c", AccessToken: token, Spool: spool, BatchSize: batch}).resolve()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	oldLogs, oldLogger := observedLogger()
	old, err := acquireDestination(resolve(10, "old-token"), oldLogger)
	if err != nil {
		t.Fatal(err)
	}
	old.release() // the old config is gone; a request it served is still running

	newLogs, newLogger := observedLogger()
	live, err := acquireDestination(resolve(20, "new-token"), newLogger)
	if err != nil {
		t.Fatal(err)
	}
	defer live.release()
	if err := live.start(); err != nil {
		t.Fatal(err)
	}
	old.enqueue(amazon.Event{EventID: "late-2", EventTime: time.Now().UTC().Format(time.RFC3339), CountryCode: "US"}, false)

	if batch := live.forwarder.Settings().BatchSize; batch != 20 {
		t.Errorf("the live destination's batch size is %d after the hand-over, want 20", batch)
	}
	if got := live.credentials[3]; got != "new-token" {
		t.Errorf("the live destination's access token is %q after the hand-over, want the new one", got)
	}
	if live.forwarder.Stats().Queued != 1 {
		t.Errorf("the live destination queued %d events, want 1", live.forwarder.Stats().Queued)
	}
	live.logger.Info("after the hand-over")
	if newLogs.FilterMessage("after the hand-over").Len() != 1 || oldLogs.FilterMessage("after the hand-over").Len() != 0 {
		t.Error("the live destination logs through the old config's logger after the hand-over")
	}
}

// observedLogger is a logger whose lines the test can read.
func observedLogger() (*observer.ObservedLogs, *zap.Logger) {
	core, logs := observer.New(zap.DebugLevel)
	return logs, zap.New(core)
}

// TestAReloadAppliesTheSpoolAndDedupeOptionsInPlace: dedupe_window,
// spool_max_size and spool_sync reach the running destination when the
// reloaded config starts, as batch_size does: no restart needed, nothing
// spooled lost, and nothing changed by a config that never starts.
func TestAReloadAppliesTheSpoolAndDedupeOptionsInPlace(t *testing.T) {
	spool := t.TempDir()
	resolve := func(dedupeWindow, spoolSync time.Duration, maxSize int64) settings {
		s, err := (&Destination{Endpoint: "http://127.0.0.1:1", TokenURL: "http://127.0.0.1:1/t", AccountID: "LIVE",
			ClientID: "c", AccessToken: "t", Spool: spool, DedupeWindow: caddy.Duration(dedupeWindow),
			SpoolSync: caddy.Duration(spoolSync), SpoolMaxSize: maxSize}).resolve()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, logger := observedLogger()
	d, err := acquireDestination(resolve(0, 0, 0), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer d.release()
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	order := amazon.Event{EventID: "ORD-1", EventTime: time.Now().UTC().Format(time.RFC3339), CountryCode: "US"}
	if first, again := d.forwarder.Enqueue(order), d.forwarder.Enqueue(order); first != forward.Queued || again != forward.Deduped {
		t.Fatalf("the default dedupe window: %v then %v, want queued then deduped", first, again)
	}
	awaitStats(t, d, "the order to be spooled", func(st forward.Stats) bool { return st.Spooled == 1 })

	// The reload: dedupe_window off, spool_sync always, spool_max_size 1 byte.
	reloaded, err := acquireDestination(resolve(-1, -1, 1), logger)
	if err != nil {
		t.Fatal(err)
	}
	reloaded.release()
	if reloaded != d {
		t.Fatal("the reload did not keep the running destination")
	}
	if got := d.forwarder.Enqueue(order); got != forward.Deduped {
		t.Errorf("before the reloaded config started, the same order was %v, want still deduped", got)
	}
	if err := d.start(); err != nil { // what the amazon_capi app does when the config starts
		t.Fatal(err)
	}
	if st := d.status(); st.SpoolSync != "always" || st.DedupeWindow != "off" || st.SpoolMaxSize != 1 {
		t.Errorf("the status shows spool_sync %q, dedupe_window %q, spool_max_size %d; want always, off, 1", st.SpoolSync, st.DedupeWindow, st.SpoolMaxSize)
	}
	if got := d.forwarder.Enqueue(order); got != forward.Queued {
		t.Errorf("after the reload turned dedupe off, the same order was %v, want queued", got)
	}
	awaitStats(t, d, "the spool, over its new 1-byte limit, to drop the event", func(st forward.Stats) bool { return st.Dropped > 0 })
	if st := d.forwarder.Stats(); st.Spooled != 1 || st.Dropped != 1 {
		t.Errorf("after lowering spool_max_size: %d spooled, %d dropped; want the first kept, the second dropped", st.Spooled, st.Dropped)
	}
}

// awaitStats waits until the destination's forwarder stats satisfy cond;
// the spool writer signals nothing a test can hold.
func awaitStats(t *testing.T, d *liveDestination, what string, cond func(forward.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(d.forwarder.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, d.forwarder.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}
