package forward

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// pending is an event in the intake: its spool record, encoded by Enqueue
// while the event is fresh in the caller's cache (and so that the intake
// holds no reference to the request the event was read from), and its name
// for the outcome counters.
type pending struct {
	record *[]byte // from newRecord; recycled once stored or dropped
	name   string
}

// Outcome is what Enqueue did with an event.
type Outcome int

const (
	// Queued: the event will be spooled and sent.
	Queued Outcome = iota
	// Deduped: an event with the same ID was queued within the dedupe window.
	Deduped
	// Dropped: the intake was full.
	Dropped
	// Stopped: the forwarder has stopped; the event was not kept, and the
	// caller should hand it to the forwarder that replaced this one.
	Stopped
)

// Enqueue hands an event over without blocking. It is safe to call at any
// time, also after Stop (it then returns Stopped and keeps nothing).
func (f *Forwarder) Enqueue(e amazon.Event) Outcome { return f.enqueue(e, true) }

// EnqueueFresh is Enqueue for an event whose ID was just generated, so it
// cannot be a duplicate: it skips the dedupe window's bookkeeping.
func (f *Forwarder) EnqueueFresh(e amazon.Event) Outcome { return f.enqueue(e, false) }

func (f *Forwarder) enqueue(e amazon.Event, dedupe bool) Outcome {
	f.gate.RLock()
	defer f.gate.RUnlock()
	if f.stopped {
		return Stopped
	}
	if dedupe && !f.dedupe.first(e.EventID, time.Now()) {
		f.deduped.Add(1)
		f.ledgers.of(e.EventDescription.Name).deduped.Add(1)
		return Deduped
	}
	record := newRecord(&e)
	f.inMemory.Add(1)
	ledger := f.ledgers.of(e.EventDescription.Name)
	ledger.queued.Add(1) // before the writer can count it written
	select {
	case f.intake <- pending{record: record, name: e.EventDescription.Name}:
		f.queued.Add(1)
		if len(f.intake) >= f.hurryAt {
			select {
			case f.hurry <- struct{}{}:
			default:
			}
		}
		return Queued
	default:
		f.inMemory.Add(-1)
		recycleRecord(record)
		f.dropped.Add(1)
		ledger.queued.Add(^uint64(0)) // not queued after all
		ledger.droppedIntake.Add(1)
		return Dropped
	}
}

// dropIntake empties the intake of a forwarder that cannot spool, counting
// the events as dropped.
func (f *Forwarder) dropIntake() int {
	n := 0
	for {
		select {
		case p := <-f.intake:
			f.inMemory.Add(-1)
			f.dropped.Add(1)
			f.observe([]pending{p}, "dropped")
			recycleRecord(p.record)
			n++
		default:
			return n
		}
	}
}

// maxGroup is the most events the writer puts in one transaction.
const maxGroup = 1024

// writeLoop moves events from the intake to the spool, as many per
// transaction as are waiting.
func (f *Forwarder) writeLoop() {
	defer close(f.writerDone)
	group := make([]pending, 0, maxGroup)
	for {
		select {
		case e := <-f.intake:
			group = f.spoolGroup(append(group[:0], e))
		case <-f.pacer.due():
			f.syncSpool()
		case <-f.stop: // closed after the gate: every event queued is in the intake
			f.drainIntake(group) // Stop then closes the spool, which fsyncs what is unsynced
			return
		}
	}
}

// syncSpool fsyncs the events written since the last fsync.
func (f *Forwarder) syncSpool() {
	f.pacer.synced(time.Now())
	if err := f.spool.syncLog(); err != nil && !errors.Is(err, errSpoolClosed) {
		f.syncFailures.Add(1)
		f.cfg.Logger.Error("could not fsync the spool: the events written in the last moments may not survive a power loss (check the disk)",
			zap.String("destination", f.cfg.Destination), zap.Error(err))
	}
}

// drainIntake spools what is still in memory when the forwarder stops,
// until the stop deadline (which cancels f.ctx); what is left then is
// counted as dropped and logged.
func (f *Forwarder) drainIntake(group []pending) {
	for {
		if f.ctx.Err() != nil {
			if n := f.dropIntake(); n > 0 {
				f.cfg.Logger.Error("the stop deadline passed before every in-memory event was spooled",
					zap.String("destination", f.cfg.Destination), zap.Int("lost", n))
			}
			return
		}
		select {
		case e := <-f.intake:
			group = f.spoolGroup(append(group[:0], e))
		default:
			return
		}
	}
}

// spoolGroup adds what else arrives within SpoolLinger (or what is
// waiting, when stopping) to group and writes it all in one transaction,
// fsynced with it or later (syncPacer); no request ever waits for either. While it
// lingers the writer sleeps rather than waiting on the intake, so that an
// event handed over does not wake it: one wake-up per transaction, not one
// per request. It is woken early when the intake fills up (hurry).
func (f *Forwarder) spoolGroup(group []pending) []pending {
	if len(group)+len(f.intake) < cap(group) { // a backlog fills a transaction now: no lingering
		linger := time.NewTimer(f.cfg.SpoolLinger)
		select {
		case <-linger.C:
		case <-f.hurry:
		case <-f.stop:
		}
		linger.Stop()
	}
gather:
	for len(group) < cap(group) {
		select {
		case e := <-f.intake:
			group = append(group, e)
		default:
			break gather
		}
	}
	defer func() {
		for _, p := range group { // stored or dropped: nothing reads them any more
			recycleRecord(p.record)
		}
		f.inMemory.Add(-int64(len(group)))
		clear(group) // the caller reuses the array
	}()
	kept := f.fitSpool(group)
	f.observe(group[len(kept):], "dropped")
	if len(kept) == 0 {
		return group
	}
	f.records, f.names = f.records[:0], f.names[:0]
	for _, p := range kept {
		f.records = append(f.records, *p.record)
		f.names = append(f.names, p.name)
	}
	written := func() {
		for _, p := range kept {
			f.ledgers.of(p.name).written.Add(1)
		}
	}
	f.pacer.setEvery(time.Duration(f.spoolSync.Load())) // the writer's copy of the live value
	if err := f.spool.appendRecords(f.records, f.names, time.Now(), written, f.pacer.inline()); err != nil {
		f.observe(kept, "dropped")
		f.dropped.Add(uint64(len(kept)))
		if !f.writeFailing {
			f.writeFailing = true
			f.cfg.Logger.Warn("could not write events to the spool: new events are dropped, and counted as dropped, until a write succeeds again (check the disk: full, or read-only?)",
				zap.String("destination", f.cfg.Destination), zap.Int("events", len(kept)), zap.String("spool", f.spool.Path()), zap.Error(err))
		}
	} else {
		if f.writeFailing {
			f.writeFailing = false
			f.cfg.Logger.Info("the spool is written again: new events are kept", zap.String("destination", f.cfg.Destination),
				zap.Uint64("dropped_so_far", f.dropped.Load()))
		}
		if f.pacer.wrote(time.Now()) {
			f.syncSpool()
		}
	}
	clear(f.records)
	select {
	case f.spooled <- struct{}{}:
	default:
	}
	return group
}

// fitSpool applies the spool_max_size policy: it returns the part of group
// the spool has room for and drops the rest (the newest events). The first
// drop logs one warning; the spool draining below 90% logs that it takes
// events again.
func (f *Forwarder) fitSpool(group []pending) []pending {
	used, n, limit := f.spool.Bytes(), int64(f.spool.Len()), f.spoolMax.Load()
	fit, total := 0, used
	for ; fit < len(group); fit++ { // by each record's own size: an estimate would cut early, then "take events again"
		if total += int64(len(*group[fit].record)); total > limit {
			break
		}
	}
	if fit == len(group) {
		if used < limit*9/10 && f.full.Swap(false) {
			f.cfg.Logger.Info("the spool takes events again", zap.String("destination", f.cfg.Destination), zap.Int64("spool_bytes", used))
		}
		return group
	}
	f.dropped.Add(uint64(len(group) - fit))
	if !f.full.Swap(true) {
		f.cfg.Logger.Warn("the spool is full: new events are dropped until Amazon takes some (raise spool_max_size, which a reload applies, or check why sending fails)",
			zap.String("destination", f.cfg.Destination), zap.Int64("spool_bytes", used), zap.Int64("spooled", n))
	}
	return group[:fit]
}
