package forward

import (
	"time"

	"go.uber.org/zap"
)

// Stats counts what happened to the events a Forwarder was given.
type Stats struct {
	// Queued counts events accepted by Enqueue.
	Queued uint64
	// Dropped counts events not kept: intake full, spool full, or stopped.
	Dropped uint64
	// Deduped counts events not queued because their ID was seen within
	// the dedupe window.
	Deduped uint64
	// SpoolBytes is the spooled events' encoded size.
	SpoolBytes int64
	// Oldest is when the oldest spooled event was spooled; zero when none.
	Oldest time.Time
	// LastSuccess is when Amazon last answered a batch with 2xx/207.
	LastSuccess time.Time
	// LastError is the last failed call's status or error.
	LastError string
	// LastErrorAt is when that call failed.
	LastErrorAt time.Time
	// Sent counts events Amazon accepted.
	Sent uint64
	// Rejected counts events Amazon refused, or that could not be sent
	// (too old, or a request Amazon refused as a whole); they go to the
	// dead letter.
	Rejected uint64
	// Replayed counts dead-lettered events queued again.
	Replayed uint64
	// Panics counts panics recovered while sending.
	Panics uint64
	// Batches counts calls to Amazon, retries included.
	Batches uint64
	// QueueDepth is the number of events waiting now, in memory and spooled.
	QueueDepth int
	// Spooled is the number of events in the spool.
	Spooled int
	// SyncFailures counts the spool's periodic fsyncs that failed: the
	// events written since the one before may not survive a power loss or
	// a kernel crash (a process that dies keeps them). Any is worth an
	// alert: the disk needs checking.
	SyncFailures uint64
	// LostDamagedFrame counts the events found lost in damaged spool
	// frames when the spool was opened (see Damage); LostTornTail those
	// lost in a torn end of the spool: a power cut or an OS crash
	// interrupted their write.
	LostDamagedFrame, LostTornTail uint64
}

// reportDamage logs and counts what the spool found damaged when it opened:
// each stretch at error level, with the events it lost (counted, and in
// the ledger of LostInSpool, so that they are accounted for).
func (f *Forwarder) reportDamage(spool *Spool) {
	for _, d := range spool.Damage() {
		msg := "a damaged frame in the spool was skipped: the events in it are lost, the frames after it are kept"
		counter := &f.lostDamaged
		if d.Reason == LostTornTail {
			msg = "the spool ended in a torn write (a power cut or an OS crash while writing), which was cut off: the events in it are lost"
			counter = &f.lostTorn
		}
		counter.Add(d.Events)
		n := f.ledgers.of(LostInSpool)
		n.carried.Add(d.Events)
		n.lost.Add(d.Events)
		f.cfg.Logger.Error(msg, zap.String("destination", f.cfg.Destination), zap.String("reason", d.Reason),
			zap.String("segment", d.Segment), zap.Int64("offset", d.Offset), zap.Int64("bytes", d.Bytes),
			zap.Uint64("events_lost", d.Events), zap.Bool("exact", d.Exact))
	}
}

// Stats returns the counters so far.
func (f *Forwarder) Stats() Stats {
	inMemory := int(f.inMemory.Load()) // before the spool: an event moves from one to the other
	var spooled int
	var spoolBytes int64
	var oldest time.Time
	if f.started.Load() { // the spool is open (and stays set once it was)
		spooled, spoolBytes = f.spool.Len(), f.spool.Bytes()
		oldest, _ = f.spool.OldestQueued()
	}
	f.lastMu.Lock()
	defer f.lastMu.Unlock()
	return Stats{
		Oldest: oldest, LastSuccess: f.lastSuccess, LastError: f.lastError, LastErrorAt: f.lastErrorAt,
		Queued: f.queued.Load(), Dropped: f.dropped.Load(), Sent: f.sent.Load(),
		Rejected: f.rejected.Load(), Batches: f.batches.Load(), Replayed: f.replayed.Load(),
		QueueDepth: inMemory + spooled, Spooled: spooled,
		Deduped: f.deduped.Load(), SpoolBytes: spoolBytes, Panics: f.panics.Load(),
		SyncFailures: f.syncFailures.Load(), LostDamagedFrame: f.lostDamaged.Load(), LostTornTail: f.lostTorn.Load(),
	}
}

// observe accounts for queued events that never reached the spool
// (dropped), and tells OnEvents.
func (f *Forwarder) observe(events []pending, outcome string) {
	var t tally
	for i := range events {
		t.add(events[i].name)
	}
	f.tell(&t, outcome)
}

// observeRecords accounts for spooled events, and tells OnEvents.
func (f *Forwarder) observeRecords(records []Record, outcome string) {
	var t tally
	for i := range records {
		t.add(records[i].Name())
	}
	f.tell(&t, outcome)
}

// tell accounts for events by name in the ledgers and tells OnEvents:
// dropped (from memory), sent, dead_lettered; rejected is told only.
func (f *Forwarder) tell(t *tally, outcome string) {
	for i, name := range t.names {
		n := uint64(t.counts[i])
		switch l := f.ledgers.of(name); outcome {
		case "dropped":
			l.droppedLater.Add(n)
		case "sent":
			l.sent.Add(n)
		case "dead_lettered":
			l.deadLettered.Add(n)
		}
	}
	if f.cfg.OnEvents != nil {
		t.report(f.cfg.OnEvents, outcome)
	}
}

// tally counts events by name; a batch holds few names.
type tally struct {
	names  []string
	counts []int
}

func (t *tally) add(name string) {
	for i, n := range t.names {
		if n == name {
			t.counts[i]++
			return
		}
	}
	t.names = append(t.names, name)
	t.counts = append(t.counts, 1)
}

func (t *tally) report(to func(name, outcome string, n int), outcome string) {
	for i, n := range t.names {
		to(n, outcome, t.counts[i])
	}
}
