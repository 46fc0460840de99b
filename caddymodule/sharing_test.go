package caddymodule

import (
	"fmt"
	"strings"
	"testing"
)

// The recommended way to share a destination: a Caddyfile snippet with its
// settings, imported in each amazon_capi block. Blocks with the same
// endpoint, account, API and spool share one queue, spool and sender.
func TestSitesShareADestinationAndAnEventGoesToTwoAccounts(t *testing.T) {
	shopA, shopB, sb := freePort(), freePort(), freePort()
	spool := t.TempDir()
	cfg := globals() + fmt.Sprintf(`
(main_account) {
	endpoint      http://127.0.0.1:%[3]d
	token_url     http://127.0.0.1:%[3]d/auth/o2/token
	account_id    SHARED-%[1]d
	client_id     c
	client_secret s
	refresh_token r
	spool         %[4]s
	flush_interval 10ms
}
(second_account) {
	endpoint      http://127.0.0.1:%[3]d
	token_url     http://127.0.0.1:%[3]d/auth/o2/token
	account_id    SECOND-%[1]d
	client_id     c
	client_secret s
	refresh_token r
	spool         %[4]s
	flush_interval 10ms
	api           v1
}
(purchase_event) {
	event purchase {
		match {
			path /checkout
		}
		type      OFF_AMAZON_PURCHASES
		currency  USD
		dedupe_id query.order
		country   US
		match_key FIP request.remote_ip
		match_key MATCH_ID query.order
	}
}
http://127.0.0.1:%[1]d {
	amazon_capi {
		import main_account
		import purchase_event
	}
	amazon_capi {
		import second_account
		import purchase_event
	}
	respond "ok"
}
http://127.0.0.1:%[2]d {
	amazon_capi {
		import main_account
		import purchase_event
	}
	respond "ok"
}
http://127.0.0.1:%[3]d {
	amazon_capi_sandbox
}
`, shopA, shopB, sb, spool)
	loadCaddy(t, cfg, "caddyfile")
	doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/checkout?order=A-1", shopA), nil, false, nil))
	doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/checkout?order=B-1", shopB), nil, false, nil))

	shared := findDestination(t, fmt.Sprintf("SHARED-%d", shopA))
	n := 0
	destinations.Range(func(_, v any) bool {
		if strings.HasPrefix(v.(*destination).settings.accountID, "SHARED-") && v.(*destination).settings.accountID == shared.settings.accountID {
			n++
		}
		return true
	})
	if n != 1 || shared.counters.queued.Load() != 2 {
		t.Errorf("%d destinations, %d events queued; want one destination with both sites' events", n, shared.counters.queued.Load())
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
	if findDestination(t, fmt.Sprintf("SECOND-%d", shopA)).settings.spoolFile() == shared.settings.spoolFile() {
		t.Error("two accounts share a spool file")
	}
}
