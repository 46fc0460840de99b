package caddymodule

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/forward"
	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

// TestEventsLostInADamagedSpoolFrameAreCountedAndAccountedFor: a spool
// whose middle frame a disk damaged while the destination was stopped
// keeps the frames around it; the event lost is in the reconciliation as
// lost in the spool (nothing unaccounted), in the admin JSON and on the
// status page.
func TestEventsLostInADamagedSpoolFrameAreCountedAndAccountedFor(t *testing.T) {
	site, sb := freePort(), freePort()
	account := fmt.Sprintf("ACCT-%d", site)
	spool := t.TempDir()
	module := amazonCAPI().sandboxAt(sb).account(account).spool(spool).
		event(purchase().match("method POST", "path /checkout").dedupeID("body.order.id").key("EMAIL", "body.customer.email"))
	withModule := fixture().site(site, module, respondOK).sandboxSite(sb, account).String()
	without := fixture().site(site, respondOK).sandboxSite(sb, account).String()
	loadCaddy(t, withModule, "caddyfile")
	amazon := sandboxServer(t, account)
	amazon.SetFaults(sandboxFaults503()) // Amazon down: the orders stay spooled
	for i := 1; i <= 3; i++ {
		body := strings.Replace(checkoutBody, "ORD-42", fmt.Sprintf("D-%d", i), 1)
		doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(body), false,
			map[string]string{"Content-Type": "application/json"}))
		awaitSpooled(t, account, i) // each order a write of its own
	}
	postConfig(t, without) // the destination stops; its spool is closed
	flipInSecondFrame(t, spool)
	amazon.SetFaults(sandbox.Faults{})
	postConfig(t, withModule)

	lost := awaitReconciliation(t, account, forward.LostInSpool, func(r Reconciliation) bool { return r.LostInSpool > 0 })
	if lost.LostInSpool != 1 || lost.CarriedOver != 1 || lost.Unaccounted != 0 {
		t.Errorf("the lost row: %+v, want 1 carried over and lost in the spool, 0 unaccounted", lost)
	}
	kept := awaitReconciliation(t, account, "purchase", func(r Reconciliation) bool { return r.Sent == 2 })
	if kept.CarriedOver != 2 || kept.Unaccounted != 0 {
		t.Errorf("the purchases: %+v, want 2 carried over and sent", kept)
	}
	got := awaitReceived(t, amazon, 2)
	ids := []string{got[0].EventID, got[1].EventID}
	slices.Sort(ids)
	if len(got) != 2 || ids[0] != "D-1" || ids[1] != "D-3" {
		t.Errorf("Amazon got %v, want D-1 and D-3 (D-2 was in the damaged frame)", ids)
	}
	var status []DestinationStatus
	adminGet(t, "GET", "/amazon_capi/", &status)
	for _, d := range status {
		if strings.HasPrefix(d.Destination, account+"@") && d.Forwarder.SpoolLostEvents[forward.LostDamagedFrame] != 1 {
			t.Errorf("admin JSON: spool_lost_events %v, want damaged_frame 1", d.Forwarder.SpoolLostEvents)
		}
	}
	if text := scrape(t); !strings.Contains(text, fmt.Sprintf(`caddy_amazon_capi_spool_lost_events_total{destination="%s@127.0.0.1:%d",reason="damaged_frame"} 1`, account, sb)) ||
		!strings.Contains(text, fmt.Sprintf(`caddy_amazon_capi_reconciliation_events{destination="%s@127.0.0.1:%d",event="(lost in the spool)",state="lost_in_spool"} 1`, account, sb)) {
		t.Error("/metrics does not count the event lost in the spool")
	}
	resp, err := adminClient.Get(fmt.Sprintf("http://localhost:%d/amazon_capi/status", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "1 events lost in the spool (damaged_frame") {
		t.Errorf("the status page does not say what was lost:\n%s", page)
	}
}

// flipInSecondFrame damages a byte of the second frame of the spool's
// only segment under dir.
func flipInSecondFrame(t *testing.T, dir string) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "*", "*.log"))
	if len(segs) != 1 {
		t.Fatalf("segments under %s: %v, want one", dir, segs)
	}
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	second := 8 + int(binary.BigEndian.Uint32(data))
	if second+40 > len(data) {
		t.Fatalf("the segment has one frame (%d bytes)", len(data))
	}
	data[second+40] ^= 0x20
	if err := os.WriteFile(segs[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// awaitSpooled waits until the destination's spool holds n events.
func awaitSpooled(t *testing.T, account string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status []DestinationStatus
		adminGet(t, "GET", "/amazon_capi/", &status)
		for _, d := range status {
			if strings.HasPrefix(d.Destination, account+"@") && d.Forwarder != nil && d.Forwarder.Spooled == n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spool never held %d events: %+v", n, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
