package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// The views of matched requests, and the memory their events are built in,
// are recycled (views): checkouts served at the same time each reach Amazon
// with their own values, hashes included, and nothing of another's.
func TestConcurrentCheckoutsEachReachAmazonWithTheirOwnValues(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	loadCaddy(t, shopConfig(t, site, bare, sb, up.URL), "caddyfile")

	const shoppers, each = 8, 40
	var wg sync.WaitGroup
	for s := range shoppers {
		wg.Go(func() {
			for i := range each {
				order := fmt.Sprintf("ORD-%d-%d", s, i)
				body := fmt.Sprintf(`{"order":{"id":%q,"total":"%d.25","currency":"usd"},"customer":{"email":"%s@Example.com"},"items":[{"qty":%d}]}`,
					order, s*100+i, order, i+1)
				resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/checkout", site), "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()

	events := awaitReceived(t, sandboxServer(t, fmt.Sprintf("ACCT-%d", site)), shoppers*each)
	seen := map[string]bool{}
	for _, e := range events {
		wire := decodeSent(t, e.Event)
		var s, i int
		if _, err := fmt.Sscanf(e.EventID, "ORD-%d-%d", &s, &i); err != nil {
			t.Fatalf("event ID %q: %v", e.EventID, err)
		}
		seen[e.EventID] = true
		sum := sha256.Sum256([]byte(strings.ToLower(e.EventID) + "@example.com"))
		if len(wire.MatchKeys) == 0 || wire.MatchKeys[0].Values[0] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: EMAIL key %+v is not its shopper's", e.EventID, wire.MatchKeys)
		}
		if want := float64(s*100+i) + 0.25; wire.Value != want || wire.UnitsSold != i+1 {
			t.Errorf("%s: value %v units %d, want %v and %d", e.EventID, wire.Value, wire.UnitsSold, want, i+1)
		}
	}
	if len(seen) != shoppers*each {
		t.Errorf("%d distinct events reached Amazon, want %d", len(seen), shoppers*each)
	}
}
