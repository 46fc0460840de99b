package forward

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Sender sends one batch to Amazon; *amazon.Client is one. Each event is
// its JSON (encoding/json of an amazon.Event), as the spool keeps it.
type Sender interface {
	Send(ctx context.Context, events []json.RawMessage) (*amazon.Result, error)
}

// DefaultDedupeWindow is Config.DedupeWindow when it is zero.
const DefaultDedupeWindow = 10 * time.Minute

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
		c.DedupeWindow = DefaultDedupeWindow
	}
	if c.DedupeLimit <= 0 {
		c.DedupeLimit = 200_000
	}
	if c.SpoolMaxBytes <= 0 {
		c.SpoolMaxBytes = 1 << 30
	}
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
