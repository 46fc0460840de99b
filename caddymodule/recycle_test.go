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
	"time"
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

// Several events matching one request, one of them built after the answer,
// are built in turn in the request's recycled view: each reaches Amazon
// with its own hashes and value.
func TestSeveralEventsOfOneRequestEachReachAmazonWithTheirOwnValues(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	account := fmt.Sprintf("ACCT-%d", site)
	module := amazonCAPI().sandboxAt(sb).account(account).
		credentials("test-client", "test-secret", "test-refresh").
		spool(t.TempDir()).flushInterval(20*time.Millisecond).
		event(
			purchase().match("method POST", "path /checkout").dedupeID("body.a.id").value("body.a.total").key("EMAIL", "body.a.email"),
			event("lead", "SIGN_UP").match("method POST", "path /checkout").dedupeID("body.b.id").key("EMAIL", "body.b.email").key("PHONE", "body.b.phone"),
			event("late", "ADD_TO_SHOPPING_CART").match("method POST", "path /checkout").whenResponse("status 2xx").dedupeID("body.c.id").value("body.c.total").key("EMAIL", "body.c.email"))
	cfg := fixture().site(site, module, "reverse_proxy "+up.URL).site(bare, "reverse_proxy "+up.URL).
		sandboxSite(sb, account, "client_id test-client", "client_secret test-secret", "refresh_token test-refresh").String()
	loadCaddy(t, cfg, "caddyfile")
	body := `{"a":{"id":"A1","total":"11.5","email":"a@example.com"},"b":{"id":"B1","email":"b@example.com","phone":"+1 206 555 0100"},"c":{"id":"C1","total":"33.5","email":"c@example.com"}}`
	got := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(body), false, map[string]string{"Content-Type": "application/json"}))
	if got.Status != 200 {
		t.Fatalf("status %d", got.Status)
	}
	events := awaitReceived(t, sandboxServer(t, account), 3)
	h := func(s string) string { x := sha256.Sum256([]byte(s)); return hex.EncodeToString(x[:]) }
	seen := map[string]bool{}
	for _, e := range events {
		w := decodeSent(t, e.Event)
		seen[e.EventID] = true
		switch e.EventID {
		case "A1":
			if w.MatchKeys[0].Values[0] != h("a@example.com") || w.Value != 11.5 {
				t.Errorf("A1 wrong: %s", e.Event)
			}
		case "B1":
			if w.MatchKeys[0].Values[0] != h("b@example.com") || len(w.MatchKeys) != 2 {
				t.Errorf("B1 wrong: %s", e.Event)
			}
		case "C1":
			if w.MatchKeys[0].Values[0] != h("c@example.com") || w.Value != 33.5 {
				t.Errorf("C1 wrong: %s", e.Event)
			}
		}
	}
	if !seen["A1"] || !seen["B1"] || !seen["C1"] {
		t.Errorf("events received %v, want A1, B1 and C1", seen)
	}
}
