package caddymodule

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The recommended way to share a destination: a Caddyfile snippet with its
// settings, imported in each amazon_capi block. Blocks with the same
// endpoint, account, API and spool share one queue, spool and sender.
func TestSitesShareADestinationAndAnEventGoesToTwoAccounts(t *testing.T) {
	shopA, shopB, sb := freePort(), freePort(), freePort()
	spool := t.TempDir()
	account := func(id string) *capiBlock {
		return amazonCAPI().sandboxAt(sb).account(id).spool(spool).flushInterval(10 * time.Millisecond)
	}
	cfg := fixture().
		snippet("main_account", account(fmt.Sprintf("SHARED-%d", shopA))).
		snippet("second_account", account(fmt.Sprintf("SECOND-%d", shopA)).api("v1")).
		snippet("purchase_event", purchase().match("path /checkout").dedupeID("query.order").
			key("FIP", "request.remote_ip").key("MATCH_ID", "query.order")).
		site(shopA,
			block("amazon_capi", "import main_account", "import purchase_event"),
			block("amazon_capi", "import second_account", "import purchase_event"),
			respondOK).
		site(shopB, block("amazon_capi", "import main_account", "import purchase_event"), respondOK).
		sandboxSite(sb, "").
		String()
	loadCaddy(t, cfg, "caddyfile")
	doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/checkout?order=A-1", shopA), nil, false, nil))
	doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/checkout?order=B-1", shopB), nil, false, nil))

	shared := findDestination(t, fmt.Sprintf("SHARED-%d", shopA))
	n := 0
	destinations.Range(func(_, v any) bool {
		if strings.HasPrefix(v.(*liveDestination).settings.accountID, "SHARED-") && v.(*liveDestination).settings.accountID == shared.settings.accountID {
			n++
		}
		return true
	})
	if n != 1 || shared.forwarder.Stats().Queued != 2 {
		t.Errorf("%d destinations, %d events queued; want one destination with both sites' events", n, shared.forwarder.Stats().Queued)
	}
	var sbx = sandboxAt(t, sb)
	got := awaitReceived(t, sbx, 3)
	byAPI := map[string][]string{}
	for _, r := range got {
		if !r.Accepted {
			t.Errorf("rejected %+v", r)
		}
		byAPI[r.API] = append(byAPI[r.API], r.EventID)
	}
	if len(byAPI["v2"]) != 2 || len(byAPI["v1"]) != 1 || byAPI["v1"][0] != "A-1" {
		t.Errorf("received %v: want A-1 and B-1 on the main account (v2), A-1 on the second (v1)", byAPI)
	}
	if findDestination(t, fmt.Sprintf("SECOND-%d", shopA)).settings.spoolDir() == shared.settings.spoolDir() {
		t.Error("two accounts share a spool file")
	}
}
