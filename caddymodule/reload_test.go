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

	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/forward"
)

func reloadConfig(site, sb int, spool string, batchSize int, withModule bool) string {
	module := fmt.Sprintf(`amazon_capi {
		endpoint       http://127.0.0.1:%[2]d
		token_url      http://127.0.0.1:%[2]d/auth/o2/token
		account_id     RELOAD-%[1]d
		client_id      c
		client_secret  s
		refresh_token  r
		spool          %[3]s
		batch_size     %[4]d
		flush_interval 10ms
		event purchase {
			match {
				path /checkout
			}
			type      OFF_AMAZON_PURCHASES
			dedupe_id query.order
			country   US
			match_key FIP request.remote_ip
		}
	}`, site, sb, spool, batchSize)
	if !withModule {
		module = ""
	}
	return globals() + fmt.Sprintf(`
http://127.0.0.1:%[1]d {
	%[3]s
	respond "ok"
}
http://127.0.0.1:%[2]d {
	amazon_capi_sandbox {
		account_id RELOAD-%[1]d
		keep       100000
	}
}
`, site, sb, module)
}

func postConfig(t *testing.T, cfg string) {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("http://localhost:%d/load", adminPort), "text/caddyfile", strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("reload: %d %s", resp.StatusCode, msg)
	}
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
	var next, answered atomic.Int64
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
				if get(int(next.Add(1))) {
					answered.Add(1)
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

	if bs, _ := first.forwarder.Settings(); bs != 500 {
		t.Errorf("batch size %d after the last reload set 500", bs)
	}
	// Every answered request's event arrives (order IDs 1..next).
	want := int(answered.Load()) + 1
	received := awaitReceived(t, sandboxServer(t, account), want)
	seen := map[string]bool{}
	for _, r := range received {
		seen[r.EventID] = true
	}
	t.Logf("%d requests answered during 100 reloads, %d distinct events received", answered.Load(), len(seen))
	if len(seen) < want {
		t.Errorf("%d events received, want %d", len(seen), want)
	}
	if st := first.forwarder.Stats(); st.Dropped != 0 {
		t.Errorf("dropped %d", st.Dropped)
	}
	n := 0
	destinations.Range(func(_, v any) bool {
		if v.(*destination).settings.accountID == account {
			n++
		}
		return true
	})
	if n != 1 {
		t.Errorf("%d destinations for one account", n)
	}

	client.CloseIdleConnections()
	if after := settledGoroutines(); after > baseline+5 {
		t.Errorf("goroutines: %d before the reloads, %d after", baseline, after)
	}

	// Removing the destination leaves unsent events in its spool.
	sandboxServer(t, account).SetFaults(sandboxFaults503())
	for i := 0; i < 20; i++ {
		get(100000 + i)
	}
	file := first.settings.spoolFile()
	postConfig(t, reloadConfig(site, sb, spool, 500, false))
	s, err := forward.OpenSpool(file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != 20 {
		t.Errorf("the spool of the removed destination holds %d events, want 20", s.Len())
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
	if d.counters.dropped.Load() != 0 {
		t.Fatal("the event was dropped")
	}
	spool, err := forward.OpenSpool(s.spoolFile())
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	recs, _ := spool.Oldest(10)
	if len(recs) != 1 || recs[0].ID() != "late-1" {
		t.Errorf("spool holds %v", recs)
	}
}
