package forward

import (
	"sync"
	"sync/atomic"
)

// Ledger is what became of one event name's events in a forwarder since
// it started, so that the caller can account for every event it handed
// over: every event is, at any moment, in exactly one of Deduped, Dropped,
// Sent, DeadLettered or Pending (InMemory + Spooled).
type Ledger struct {
	// Carried counts the events found in the spool when the forwarder
	// started: left by the previous run.
	Carried uint64 `json:"carried_over"`
	// Queued counts the events Enqueue took.
	Queued uint64 `json:"queued"`
	// Replayed counts dead-lettered events queued again.
	Replayed uint64 `json:"replayed"`
	// Deduped counts events not queued: their ID was seen within the
	// dedupe window.
	Deduped uint64 `json:"deduped"`
	// Dropped counts events not kept: intake full, spool full, or the
	// spool could not be written.
	Dropped uint64 `json:"dropped"`
	// Sent counts events Amazon took.
	Sent uint64 `json:"sent"`
	// DeadLettered counts events kept in the dead letter: refused by
	// Amazon, or too old to send.
	DeadLettered uint64 `json:"dead_lettered"`
	// Rejected counts the dead-lettered events by reason: Amazon's error
	// code for an event it refused, HTTP_<status> for a batch it refused
	// whole, TOO_OLD for an event older than Amazon's window.
	Rejected map[string]uint64 `json:"rejected"`
	// InMemory counts queued events not yet spooled.
	InMemory int64 `json:"in_memory"`
	// Spooled counts the events in the spool now.
	Spooled int `json:"spooled"`
}

// Pending is the events waiting to be sent: in memory or spooled.
func (l Ledger) Pending() int64 { return l.InMemory + int64(l.Spooled) }

// nameLedger is one name's live counters.
type nameLedger struct {
	carried, queued, replayed, deduped, droppedIntake, droppedLater atomic.Uint64
	written, sent, deadLettered                                     atomic.Uint64
	rejected                                                        sync.Map // reason → *atomic.Uint64
}

// ledgers are a forwarder's ledgers by event name.
type ledgers struct{ byName sync.Map }

func (l *ledgers) of(name string) *nameLedger {
	if v, ok := l.byName.Load(name); ok {
		return v.(*nameLedger)
	}
	v, _ := l.byName.LoadOrStore(name, new(nameLedger))
	return v.(*nameLedger)
}

func (n *nameLedger) reject(reason string, count int) {
	v, _ := n.rejected.LoadOrStore(reason, new(atomic.Uint64))
	v.(*atomic.Uint64).Add(uint64(count))
}

// Ledgers returns the ledger of every event name the forwarder has seen or
// found in its spool.
func (f *Forwarder) Ledgers() map[string]Ledger {
	var spooled map[string]int
	if f.started.Load() {
		spooled = f.spool.CountsByName()
	}
	out := map[string]Ledger{}
	f.ledgers.byName.Range(func(k, v any) bool {
		n := v.(*nameLedger)
		// Read the later stages first: an event moving on is then seen in
		// both places for a moment, never in none.
		l := Ledger{
			Sent: n.sent.Load(), DeadLettered: n.deadLettered.Load(), Rejected: map[string]uint64{},
			Dropped: n.droppedIntake.Load() + n.droppedLater.Load(), Deduped: n.deduped.Load(),
			Carried: n.carried.Load(), Replayed: n.replayed.Load(),
		}
		written, droppedLater := n.written.Load(), n.droppedLater.Load()
		l.Queued = n.queued.Load()
		l.InMemory = int64(l.Queued) - int64(written) - int64(droppedLater)
		n.rejected.Range(func(r, c any) bool {
			l.Rejected[r.(string)] = c.(*atomic.Uint64).Load()
			return true
		})
		out[k.(string)] = l
		return true
	})
	for name, c := range spooled {
		l := out[name]
		l.Spooled = c
		if l.Rejected == nil {
			l.Rejected = map[string]uint64{}
		}
		out[name] = l
	}
	return out
}
