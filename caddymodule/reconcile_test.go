package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

// awaitReconciliation polls the admin API until the destination's row for
// event satisfies done (the forwarder works on its own goroutines and
// signals nothing the admin API could wait on).
func awaitReconciliation(t *testing.T, account, event string, done func(Reconciliation) bool) Reconciliation {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var report []DestinationReconciliation
		adminGet(t, "GET", "/amazon_capi/reconciliation", &report)
		var row Reconciliation
		for _, d := range report {
			if strings.HasPrefix(d.Destination, account+"@") {
				for _, r := range d.Events {
					if r.Event == event {
						row = r
					}
				}
			}
		}
		if done(row) {
			return row
		}
		if time.Now().After(deadline) {
			t.Fatalf("reconciliation never settled: %+v", row)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEveryConfirmedOrderIsAccountedForThroughOutageRejectsAndRestart
// drives orders through Amazon being up, down, the destination stopping
// with orders spooled and starting again, and Amazon refusing a batch:
// at every settled point the states add up to what the site confirmed,
// and nothing is unaccounted.
func TestEveryConfirmedOrderIsAccountedForThroughOutageRejectsAndRestart(t *testing.T) {
	site, sb := freePort(), freePort()
	account := fmt.Sprintf("ACCT-%d", site)
	spool := t.TempDir()
	module := amazonCAPI().sandboxAt(sb).account(account).spool(spool).flushInterval(20 * time.Millisecond).
		event(purchase().match("method POST", "path /checkout").dedupeID("body.order.id").key("EMAIL", "body.customer.email"))
	withModule := fixture().site(site, module, respondOK).sandboxSite(sb, account).String()
	without := fixture().site(site, respondOK).sandboxSite(sb, account).String()
	loadCaddy(t, withModule, "caddyfile")
	amazon := sandboxServer(t, account)
	order := func(id string) {
		body := strings.Replace(checkoutBody, "ORD-42", id, 1)
		doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(body), false,
			map[string]string{"Content-Type": "application/json"}))
	}
	settled := func(r Reconciliation) bool { return r.Unaccounted == 0 && r.Confirmed > 0 }

	for i := 1; i <= 3; i++ {
		order(fmt.Sprintf("R-%d", i))
	}
	order("R-1") // the same order again: deduped
	doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(`{"order":`), false,
		map[string]string{"Content-Type": "application/json"})) // gives no event
	awaitReceived(t, amazon, 3)
	amazon.SetFaults(sandboxFaults503()) // Amazon down
	for i := 4; i <= 6; i++ {
		order(fmt.Sprintf("R-%d", i))
	}
	before := awaitReconciliation(t, account, "purchase", func(r Reconciliation) bool { return settled(r) && r.Pending == 3 && r.Sent == 3 })
	if before.Confirmed != 8 || before.Invalid != 1 || before.Deduped != 1 || before.Dropped != 0 || before.DeadLettered != 0 {
		t.Errorf("before the restart: %+v", before)
	}

	// The destination stops with three orders spooled, and starts again.
	postConfig(t, without)
	postConfig(t, withModule)
	amazon.SetFaults(sandbox.Faults{Status: 400, FailFirst: 1}) // the carried batch is refused whole
	after := awaitReconciliation(t, account, "purchase", func(r Reconciliation) bool { return r.CarriedOver == 3 && r.DeadLettered == 3 })
	order("R-7")
	order("R-8")
	after = awaitReconciliation(t, account, "purchase", func(r Reconciliation) bool { return settled(r) && r.Sent == 2 && r.Pending == 0 })
	if after.Confirmed != 2 || after.CarriedOver != 3 || after.DeadLettered != 3 || after.Rejected["HTTP_400"] != 3 || after.Unaccounted != 0 {
		t.Errorf("after the restart: %+v", after)
	}
	t.Logf("before the restart: confirmed %d = invalid %d + deduped %d + sent %d + pending %d; after: confirmed %d + carried over %d = sent %d + dead-lettered %d %v",
		before.Confirmed, before.Invalid, before.Deduped, before.Sent, before.Pending, after.Confirmed, after.CarriedOver, after.Sent, after.DeadLettered, after.Rejected)
	text := scrape(t)
	if !strings.Contains(text, `caddy_amazon_capi_unaccounted_events{destination="`+account) {
		t.Error("the unaccounted metric is missing")
	}
}

// TestUnaccountedNeverReadsAboveZeroUnderAFlood: while checkouts pour in
// from many clients, every reading of the reconciliation has nothing
// unaccounted (an event on its way may be counted twice for a moment,
// below 0, never missed), and it settles at 0.
func TestUnaccountedNeverReadsAboveZeroUnderAFlood(t *testing.T) {
	site, sb := freePort(), freePort()
	account := fmt.Sprintf("ACCT-%d", site)
	module := amazonCAPI().sandboxAt(sb).account(account).spool(t.TempDir()).flushInterval(5 * time.Millisecond).
		event(purchase().match("method POST", "path /checkout").dedupeID("body.order.id").key("EMAIL", "body.customer.email"))
	loadCaddy(t, fixture().site(site, module, respondOK).sandboxSite(sb, account, "keep 100000").String(), "caddyfile")
	const clients, each = 8, 150
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				body := strings.Replace(checkoutBody, "ORD-42", fmt.Sprintf("F-%d-%d", c, i), 1)
				if i%10 == 0 {
					body = `{"order":` // gives no event: invalid
				}
				req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	readings := 0
	for flooding := true; flooding; readings++ {
		select {
		case <-done:
			flooding = false
		default:
		}
		for _, d := range liveDestinations() {
			for _, r := range d.reconcile() {
				if r.Unaccounted > 0 {
					t.Fatalf("reading %d: %d unaccounted during the flood: %+v", readings, r.Unaccounted, r)
				}
			}
		}
	}
	settled := awaitReconciliation(t, account, "purchase", func(r Reconciliation) bool {
		return r.Unaccounted == 0 && r.Pending == 0 && r.Confirmed == clients*each
	})
	t.Logf("%d readings during the flood; then %+v", readings, settled)
}
