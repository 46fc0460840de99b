package forward

import (
	"sync"
	"sync/atomic"
)

// Ledger is what became of one event name's events in a forwarder since
// it started, so that the caller can account for every event it handed
// over: every event is, at any moment, in exactly one of Deduped, Dropped,
// Sent, DeadLettered, LostInSpool or Pending (InMemory + Spooled).
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
	// LostInSpool counts events left by the previous run that were lost in
	// a damaged or torn stretch of the spool (see Damage). Their names
	// cannot be read, so they are all in the ledger named LostInSpool,
	// which also counts them as carried over.
	LostInSpool uint64 `json:"lost_in_spool"`
	// InMemory counts queued events not yet spooled.
	InMemory int64 `json:"in_memory"`
	// Spooled counts the events in the spool now.
	Spooled int `json:"spooled"`
}

// LostInSpool names the ledger of the events lost in damaged stretches of
// the spool.
const LostInSpool = "(lost in the spool)"

// Pending is the events waiting to be sent: in memory or spooled.
func (l Ledger) Pending() int64 { return l.InMemory + int64(l.Spooled) }

// nameLedger is one name's live counters.
type nameLedger struct {
	carried, queued, replayed, deduped, droppedIntake, droppedLater atomic.Uint64
	written, sent, deadLettered, lost                               atomic.Uint64
	// droppedSpooled counts events dropped after they were spooled (the
	// dead letter full or failing): counted before they leave the spool.
	droppedSpooled atomic.Uint64
	rejected       sync.Map // reason → *atomic.Uint64
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
	// Each stage is read before the stages after it, and an event enters
	// a stage before it leaves the one before (spooled before written off
	// the memory; sent or dead-lettered before removed from the spool): an
	// event moving on between two reads is then counted twice for a moment
	// (unaccounted below 0), never missed (above 0, which alerts). The
	// caller reads its own "confirmed" before these, and counts an event
	// as confirmed only once the forwarder has counted it.
	out := map[string]Ledger{}
	f.ledgers.byName.Range(func(k, v any) bool {
		n := v.(*nameLedger)
		l := Ledger{Carried: n.carried.Load(), Replayed: n.replayed.Load(), LostInSpool: n.lost.Load(), Rejected: map[string]uint64{}}
		l.Queued = n.queued.Load()
		written, droppedLater := n.written.Load(), n.droppedLater.Load()
		l.InMemory = int64(l.Queued) - int64(written) - int64(droppedLater)
		l.Dropped, l.Deduped = n.droppedIntake.Load()+droppedLater, n.deduped.Load()
		out[k.(string)] = l
		return true
	})
	if f.started.Load() {
		for name, c := range f.spool.CountsByName() {
			l := out[name]
			l.Spooled = c
			if l.Rejected == nil {
				l.Rejected = map[string]uint64{}
			}
			out[name] = l
		}
	}
	for name, l := range out {
		n := f.ledgers.of(name)
		l.Sent, l.DeadLettered = n.sent.Load(), n.deadLettered.Load()
		l.Dropped += n.droppedSpooled.Load() // after the spool: they leave it once counted here
		n.rejected.Range(func(r, c any) bool {
			l.Rejected[r.(string)] = c.(*atomic.Uint64).Load()
			return true
		})
		out[name] = l
	}
	return out
}
