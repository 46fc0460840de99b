package forward

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// balance is what the ledger cannot account for: events in, less events
// out and waiting. It must be 0 once the forwarder is idle.
func balance(l Ledger) int64 {
	in := int64(l.Carried + l.Queued + l.Replayed)
	return in - int64(l.Dropped) - int64(l.Sent) - int64(l.DeadLettered) - l.Pending()
}

func TestTheLedgerAccountsForEveryEventThroughOutageRejectsReplayAndRestart(t *testing.T) {
	dir := t.TempDir()
	var down atomic.Bool
	down.Store(true)
	answer := func(call int, events []amazon.Event) (*amazon.Result, error) {
		if down.Load() {
			return &amazon.Result{Status: 503}, nil
		}
		res := &amazon.Result{Status: 207}
		for i, e := range events {
			if e.CountryCode == "XX" { // Amazon refuses these for good
				res.Rejected = append(res.Rejected, amazon.Rejection{Index: i, Errors: []amazon.FieldError{{Code: "FIELD_VALUE_IS_INVALID"}}})
			}
		}
		res.Accepted = len(events) - len(res.Rejected)
		return res, nil
	}
	dl := OpenDeadLetter(filepath.Join(dir, "dead.jsonl"))
	cfg := Config{BatchSize: 5, FlushInterval: time.Millisecond, MaxBackoff: 5 * time.Millisecond, DeadLetter: dl}
	f := start(t, cfg, newFake(answer), dir)
	for i := 0; i < 6; i++ {
		e := event(i)
		if i%3 == 0 {
			e.CountryCode = "XX"
		}
		f.Enqueue(e)
	}
	f.Enqueue(event(1)) // a duplicate
	for f.Stats().Spooled != 6 {
		time.Sleep(time.Millisecond) // the writer signals nothing a test can hold
	}
	l := f.Ledgers()["purchase"]
	if l.Queued != 6 || l.Deduped != 1 || l.Spooled != 6 || balance(l) != 0 {
		t.Fatalf("during the outage: %+v", l)
	}

	// A restart while Amazon is down: the next run carries the 6 over.
	f.Stop(context.Background())
	g := start(t, cfg, newFake(answer), dir)
	if l := g.Ledgers()["purchase"]; l.Carried != 6 || l.Spooled != 6 || balance(l) != 0 {
		t.Fatalf("after the restart: %+v", l)
	}
	down.Store(false)
	g.settle(t, 6)
	l = g.Ledgers()["purchase"]
	if l.Sent != 4 || l.DeadLettered != 2 || l.Rejected["FIELD_VALUE_IS_INVALID"] != 2 || l.Pending() != 0 || balance(l) != 0 {
		t.Fatalf("after Amazon came back: %+v", l)
	}

	// Replayed, the two are refused again: still accounted for.
	if n, err := g.Replay(); n != 2 || err != nil {
		t.Fatalf("replay %d %v", n, err)
	}
	g.settle(t, 2)
	if l = g.Ledgers()["purchase"]; l.Replayed != 2 || l.DeadLettered != 4 || balance(l) != 0 {
		t.Errorf("after the replay: %+v", l)
	}
}
