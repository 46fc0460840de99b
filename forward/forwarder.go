// Package forward delivers events to Amazon in the background: a bounded
// in-memory intake that never blocks the caller, a writer that moves events
// into a durable Spool in groups (fsynced at most every SpoolSync), a sender that
// sends at most BatchSize spooled events per request, or whatever is waiting
// once the oldest has waited FlushInterval, and the handling of Amazon's
// answer (per-event rejections, retries with backoff, splitting a batch that
// is too large). An event leaves the spool only once Amazon has answered for
// it, so a crash or restart loses nothing that reached the spool.
//
// It knows nothing about Caddy or the mapping language: it moves
// amazon.Events, encoded once by Enqueue, to a Sender.
package forward

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Sender sends one batch to Amazon; *amazon.Client is one. Each event is
// its JSON, as amazon.Encode writes it and the spool keeps it; the slices
// are the spool's read buffer, valid only until Send returns (the next
// batch is read into them), so a Sender copies what it keeps.
type Sender interface {
	Send(ctx context.Context, events []json.RawMessage) (*amazon.Result, error)
}

// Config configures a Forwarder. Zero values take the defaults.
type Config struct {
	// Destination names the destination in logs.
	Destination string
	// BatchSize is the most events per request, 1–500; default 500.
	BatchSize int
	// FlushInterval is how long a partial batch waits; default 1s.
	FlushInterval time.Duration
	// QueueSize bounds the in-memory intake in front of the spool; default
	// 10,000 events.
	QueueSize int
	// SpoolLinger is how long the spool writer gathers events before it
	// writes them in one transaction; default 20ms.
	SpoolLinger time.Duration
	// SpoolSync is how often the writer fsyncs the events it wrote. An
	// event written to the spool survives the process dying at once (it
	// is in the kernel's cache); it survives the machine losing power once
	// fsynced, at most SpoolSync later. Default 200ms; a negative value
	// fsyncs every group before it counts as spooled, which costs an fsync
	// per SpoolLinger whatever the rate (about 120 µs of CPU each here).
	SpoolSync time.Duration
	// MaxAge is the oldest event Amazon accepts; older ones are not sent.
	// Default: 21 days.
	MaxAge time.Duration
	// RequestTimeout bounds one call to Amazon; default 30s.
	RequestTimeout time.Duration
	// MaxBackoff caps the wait between retries; default 1 minute.
	MaxBackoff time.Duration
	// Logger receives the forwarder's logs; default none.
	Logger *zap.Logger
	// DedupeWindow is how long an event ID is remembered: the same ID
	// enqueued again within it is not sent again. Default 10 minutes; a
	// negative value turns deduplication off.
	DedupeWindow time.Duration
	// DedupeLimit bounds the IDs remembered; default 200,000.
	DedupeLimit int
	// SpoolMaxBytes bounds the spooled events' encoded size. When the spool
	// is full, new events are dropped (counted, one warning) until Amazon
	// takes some; the site is never stalled. Default 1 GiB.
	SpoolMaxBytes int64
	// DeadLetter receives the events Amazon refused and those too old to
	// send; nil only logs them.
	DeadLetter *DeadLetter
	// OnEvents, when set, is told what became of events after they left the
	// intake, n at a time for each event name: "sent", "rejected" (Amazon
	// refused them), "dead_lettered" (kept in the dead letter: refused or too
	// old) or "dropped" (the spool was full or could not be written). It
	// must not block for long.
	OnEvents func(name, outcome string, n int)
	// AfterBatch, when set, is called on the sending goroutine after each
	// call to Amazon has been handled (for metrics and tests). It must not
	// block for long.
	AfterBatch func(BatchReport)
}

// BatchReport describes one call to Amazon once it has been handled.
type BatchReport struct {
	// Events is the size of the batch.
	Events int
	// Status is Amazon's HTTP status, 0 when the call failed (see Err).
	Status int
	// Code and Message are Amazon's error of a failed call, when it gave
	// one (they describe the request, never a customer's data).
	Code, Message string
	// Err is the transport error, if any.
	Err error
	// Sent and Rejected count the events Amazon took and refused; both are
	// zero when the batch will be retried.
	Sent, Rejected int
	// Took is how long the call took.
	Took time.Duration
}

// DefaultSpoolSync is Config.SpoolSync's default.
const DefaultSpoolSync = 200 * time.Millisecond

func (c *Config) defaults() {
	if c.BatchSize <= 0 || c.BatchSize > amazon.MaxBatch {
		c.BatchSize = amazon.MaxBatch
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 10000
	}
	if c.SpoolLinger <= 0 {
		c.SpoolLinger = 20 * time.Millisecond
	}
	if c.SpoolSync == 0 {
		c.SpoolSync = DefaultSpoolSync
	}
	if c.MaxAge <= 0 {
		c.MaxAge = amazon.MaxEventAge(amazon.V2)
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.DedupeWindow == 0 {
		c.DedupeWindow = 10 * time.Minute
	}
	if c.DedupeLimit <= 0 {
		c.DedupeLimit = 200_000
	}
	if c.SpoolMaxBytes <= 0 {
		c.SpoolMaxBytes = 1 << 30
	}
}

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

// pending is an event in the intake: its spool record, encoded by Enqueue
// while the event is fresh in the caller's cache (and so that the intake
// holds no reference to the request the event was read from), and its name
// for the outcome counters.
type pending struct {
	record *[]byte // from newRecord; recycled once stored or dropped
	name   string
}

// Forwarder owns the delivery of one destination's events.
type Forwarder struct {
	cfg    Config
	sender Sender
	spool  *Spool
	intake chan pending
	// spooled is signalled (without blocking) after each write to the spool.
	spooled chan struct{}
	// hurry is signalled (without blocking) when hurryAt events wait in the
	// intake, so that the writer does not sit out its linger.
	hurry   chan struct{}
	hurryAt int
	ctx     context.Context
	cancel  context.CancelFunc
	stop    chan struct{}
	// gate orders Enqueue and Stop: Enqueue holds it for reading while it
	// hands an event over, and Stop takes it for writing to set stopped, so
	// that once Stop has set it no Enqueue is mid-way and none starts: an
	// event Enqueue reports as Queued is in the intake before the writer's
	// last drain.
	gate    sync.RWMutex
	stopped bool // under gate
	// inMemory counts queued events not yet written to the spool (or
	// dropped): in the intake or in the writer's hands. It is raised before
	// an event enters the intake and lowered after its transaction, so
	// QueueDepth may count an event twice for a moment but never misses one.
	inMemory atomic.Int64
	// writerDone and senderDone close when the goroutines end.
	writerDone, senderDone chan struct{}
	once                   sync.Once
	// open opens the spool of a deferred forwarder; started is set once the
	// spool is open and the goroutines run. lifeMu orders Start and Stop.
	open    func() (*Spool, error)
	started atomic.Bool
	lifeMu  sync.Mutex
	// records and names are the writer's lists of a group's spool records
	// and their event names.
	records [][]byte
	names   []string
	// pacer tells the writer when to fsync what it wrote.
	pacer syncPacer
	// writeFailing is set while the spool's writes fail (a full disk), so
	// that the writer says so once when it starts and once when it ends.
	writeFailing bool

	dedupe  *dedupe
	ledgers ledgers
	// batch, flushInterval, spoolMax and spoolSync are the live BatchSize,
	// FlushInterval, SpoolMaxBytes and SpoolSync, which Configure changes.
	batch, flushInterval, spoolMax, spoolSync atomic.Int64
	full                                      atomic.Bool // the spool is full; set and cleared by the writer
	deadLetterFull                            atomic.Bool // the dead letter refused letters; cleared when it takes them again

	queued, dropped, deduped, sent, rejected, batches, replayed, panics, syncFailures atomic.Uint64
	lostDamaged, lostTorn                                                             atomic.Uint64

	lastMu                   sync.Mutex
	lastSuccess, lastErrorAt time.Time
	lastError                string
}

// NewDeferred returns a forwarder that takes events at once (into its
// bounded intake, as Enqueue always does) but opens its spool with open and
// starts writing and sending only when Start is called. A forwarder that
// is stopped without having started opens nothing, unless events are
// waiting: then it starts first, so that they reach the spool.
func NewDeferred(cfg Config, sender Sender, open func() (*Spool, error)) *Forwarder {
	f := newForwarder(cfg, sender)
	f.open = open
	return f
}

func newForwarder(cfg Config, sender Sender) *Forwarder {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	f := &Forwarder{
		cfg:        cfg,
		sender:     sender,
		intake:     make(chan pending, cfg.QueueSize),
		spooled:    make(chan struct{}, 1),
		hurry:      make(chan struct{}, 1),
		hurryAt:    min(maxGroup, max(cfg.QueueSize/2, 1)),
		ctx:        ctx,
		cancel:     cancel,
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		senderDone: make(chan struct{}),
		dedupe:     newDedupe(cfg.DedupeWindow, cfg.DedupeLimit),
		pacer:      newSyncPacer(cfg.SpoolSync),
	}
	f.batch.Store(int64(cfg.BatchSize))
	f.flushInterval.Store(int64(cfg.FlushInterval))
	f.spoolMax.Store(cfg.SpoolMaxBytes)
	f.spoolSync.Store(int64(cfg.SpoolSync))
	return f
}

// begin gives the forwarder its spool and starts its goroutines.
func (f *Forwarder) begin(spool *Spool) {
	f.spool = spool
	for name, n := range spool.CountsByName() {
		f.ledgers.of(name).carried.Add(uint64(n))
	}
	f.started.Store(true)
	go f.writeLoop()
	go f.sendLoop()
}

// Start opens the spool of a forwarder made by NewDeferred and starts
// writing and sending. It does nothing if the forwarder has started
// already; after Stop it returns an error.
func (f *Forwarder) Start() error {
	f.lifeMu.Lock()
	defer f.lifeMu.Unlock()
	return f.startLocked()
}

func (f *Forwarder) startLocked() error {
	if f.started.Load() {
		return nil
	}
	if f.isStopped() {
		return errors.New("the forwarder has stopped")
	}
	return f.openAndBegin()
}

// openAndBegin opens the spool and starts the goroutines.
func (f *Forwarder) openAndBegin() error {
	spool, err := f.open()
	if err != nil {
		return err
	}
	f.reportDamage(spool)
	if n := spool.Len(); n > 0 {
		f.cfg.Logger.Info("sending events left in the spool", zap.String("destination", f.cfg.Destination),
			zap.Int("events", n), zap.String("spool", spool.Path()))
	}
	f.begin(spool)
	return nil
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

// Started reports whether the forwarder has its spool open.
func (f *Forwarder) Started() bool { return f.started.Load() }

// Configure applies a config reload to a running forwarder, in place:
// BatchSize, FlushInterval, SpoolMaxBytes, SpoolSync and DedupeWindow take
// the values of c (its zero values their defaults); c's other fields are
// not read. Queued and spooled events are kept: a spool holding more than
// a lowered SpoolMaxBytes keeps its events and takes new ones as soon as
// they fit under it again. A new SpoolSync applies from the next write; a
// DedupeWindow turned off forgets the IDs it remembered.
func (f *Forwarder) Configure(c Config) {
	c.defaults()
	f.batch.Store(int64(c.BatchSize))
	f.flushInterval.Store(int64(c.FlushInterval))
	f.spoolMax.Store(c.SpoolMaxBytes)
	f.spoolSync.Store(int64(c.SpoolSync))
	f.dedupe.setWindow(c.DedupeWindow)
	select {
	case f.spooled <- struct{}{}: // let a waiting sender look again
	default:
	}
}

func (f *Forwarder) batchSize() int { return int(f.batch.Load()) }

// Settings returns the live values of the options Configure changes
// (BatchSize, FlushInterval, SpoolMaxBytes, SpoolSync, DedupeWindow); the
// other fields are zero.
func (f *Forwarder) Settings() Config {
	return Config{
		BatchSize: f.batchSize(), FlushInterval: time.Duration(f.flushInterval.Load()),
		SpoolMaxBytes: f.spoolMax.Load(), SpoolSync: time.Duration(f.spoolSync.Load()),
		DedupeWindow: time.Duration(f.dedupe.window.Load()),
	}
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

// Stop writes what is still in memory to the spool (until ctx ends), stops
// sending (a batch in flight is abandoned when ctx ends) and closes the
// spool. Events not yet sent stay in the spool for the next start. Stop may
// be called more than once; Enqueue after Stop keeps nothing and never panics.
func (f *Forwarder) Stop(ctx context.Context) {
	f.lifeMu.Lock()
	defer f.lifeMu.Unlock()
	f.once.Do(func() {
		if !f.started.Load() && !f.startForStop() {
			return
		}
		f.closeGate()
		close(f.stop)
		go func() {
			select {
			case <-ctx.Done():
				f.cancel()
			case <-f.senderDone:
			}
		}()
		<-f.writerDone
		f.cancel() // the spool holds everything now; stop retrying
		<-f.senderDone
		if err := f.spool.Close(); err != nil {
			f.cfg.Logger.Error("closing the spool", zap.Error(err))
		}
	})
}

// closeGate stops Enqueue taking events, once the calls handing one over
// have done so.
func (f *Forwarder) closeGate() {
	f.gate.Lock()
	f.stopped = true
	f.gate.Unlock()
}

// isStopped reports whether Stop has closed the gate.
func (f *Forwarder) isStopped() bool {
	f.gate.RLock()
	defer f.gate.RUnlock()
	return f.stopped
}

// startForStop decides what Stop does with a forwarder that never started:
// with no event waiting it opens nothing (a config that was validated, or
// failed to load); with events waiting it starts, so that Stop spools
// them. It reports whether the forwarder runs now.
func (f *Forwarder) startForStop() bool {
	f.closeGate()
	if len(f.intake) == 0 {
		f.cancel()
		return false
	}
	// Still stopping: an Enqueue from now on is handed to the live
	// destination, not left in this intake.
	if err := f.openAndBegin(); err != nil {
		n := f.dropIntake()
		f.cancel()
		f.cfg.Logger.Error("events could not be kept: the spool did not open", zap.String("destination", f.cfg.Destination),
			zap.Int("events", n), zap.Error(err))
		return false
	}
	return true
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

// Replay queues the dead-lettered events again, with their event IDs, and
// empties the dead letter. It returns how many were queued.
func (f *Forwarder) Replay() (int, error) {
	if f.cfg.DeadLetter == nil {
		return 0, nil
	}
	if !f.started.Load() {
		return 0, errors.New("the forwarder has not started yet; try again once Caddy serves")
	}
	n, err := f.cfg.DeadLetter.Take(func(letters []Letter) error {
		events := make([]json.RawMessage, len(letters))
		for i := range letters {
			events[i] = letters[i].Event
		}
		if err := f.spool.Append(events, time.Now()); err != nil {
			return err
		}
		for i := range letters {
			f.ledgers.of(eventName(letters[i].Event)).replayed.Add(1)
		}
		return nil
	})
	f.replayed.Add(uint64(n))
	if n > 0 {
		select {
		case f.spooled <- struct{}{}:
		default:
		}
	}
	return n, err
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

// sendLoop sends spooled events, oldest first, until stopped.
func (f *Forwarder) sendLoop() {
	defer close(f.senderDone)
	var arena []byte // the batches' records, one batch at a time
	for f.ctx.Err() == nil {
		var batch []Record
		var err error
		batch, arena, err = f.spool.oldestInto(f.batchSize(), arena)
		if err != nil {
			f.cfg.Logger.Error("reading the spool", zap.Error(err))
			if !f.sleep(time.Second) {
				return
			}
			continue
		}
		if len(batch) < f.batchSize() && !f.waitForBatch(batch) {
			continue
		}
		if !f.safeDeliver(batch) && !f.sleep(f.backoff(4, 0)) {
			return
		}
	}
}

// safeDeliver delivers a batch, recovering from a panic (a bug, or a bad
// answer the code did not expect) so the process and the site live on; the
// batch stays spooled and is tried again. It returns false after a panic.
func (f *Forwarder) safeDeliver(batch []Record) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			f.panics.Add(1)
			f.cfg.Logger.Error("recovered from a panic while sending; the batch stays in the spool",
				zap.String("destination", f.cfg.Destination), zap.Any("panic", p), zap.Stack("stack"))
			ok = false
		}
	}()
	f.deliver(batch)
	return true
}

// waitForBatch waits while a partial batch may still grow: until the oldest
// event has waited FlushInterval, or a full batch is spooled. It returns
// true when batch should be sent as it is, false to read the spool again.
func (f *Forwarder) waitForBatch(batch []Record) bool {
	if len(batch) == 0 {
		select {
		case <-f.spooled:
		case <-f.ctx.Done():
		case <-f.stop:
			<-f.ctx.Done()
		}
		return false
	}
	interval := f.flushInterval.Load()
	deadline := time.NewTimer(time.Until(batch[0].Queued.Add(time.Duration(interval))))
	defer deadline.Stop()
	for {
		select {
		case <-deadline.C:
			return true
		case <-f.spooled:
			// A full batch is waiting, or a reload changed the flush
			// interval (Configure): look again.
			if f.spool.Len() >= f.batchSize() || f.flushInterval.Load() != interval {
				return false
			}
		case <-f.ctx.Done():
			return false
		}
	}
}

// backoff returns the wait before retry number attempt (1-based): capped
// exponential with full jitter, at least the server's Retry-After.
func (f *Forwarder) backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceiling := time.Second << min(attempt, 16)
	if ceiling > f.cfg.MaxBackoff {
		ceiling = f.cfg.MaxBackoff
	}
	d := time.Duration(rand.Int64N(int64(ceiling)/2)) + ceiling/2
	return max(d, retryAfter)
}

// sleep waits d or until the forwarder is cancelled; false when cancelled.
func (f *Forwarder) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-f.ctx.Done():
		return false
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
