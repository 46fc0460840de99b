// Package forward delivers events to Amazon in the background: a bounded
// in-memory intake that never blocks the caller, a writer that moves events
// into a durable Spool in groups (one fsync for many events), a sender that
// sends at most BatchSize spooled events per request, or whatever is waiting
// once the oldest has waited FlushInterval, and the handling of Amazon's
// answer (per-event rejections, retries with backoff, splitting a batch that
// is too large). An event leaves the spool only once Amazon has answered for
// it, so a crash or restart loses nothing that reached the spool.
//
// It knows nothing about Caddy or the mapping language: it moves
// amazon.Events to a Sender.
package forward

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Sender sends one batch to Amazon; *amazon.Client is one.
type Sender interface {
	Send(ctx context.Context, events []amazon.Event) (*amazon.Result, error)
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
	// MaxAge is the oldest event Amazon accepts; older ones are not sent.
	// Default: 21 days.
	MaxAge time.Duration
	// RequestTimeout bounds one call to Amazon; default 30s.
	RequestTimeout time.Duration
	// MaxBackoff caps the wait between retries; default 1 minute.
	MaxBackoff time.Duration
	// Logger receives the forwarder's logs; default none.
	Logger *zap.Logger
	// DeadLetter receives the events Amazon refused and those too old to
	// send; nil only logs them.
	DeadLetter *DeadLetter
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
	// Err is the transport error, if any.
	Err error
	// Sent and Rejected count the events Amazon took and refused; both are
	// zero when the batch will be retried.
	Sent, Rejected int
	// Took is how long the call took.
	Took time.Duration
}

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
}

// Stats counts what happened to the events a Forwarder was given.
type Stats struct {
	// Queued counts events accepted by Enqueue.
	Queued uint64
	// Dropped counts events Enqueue refused (queue full or stopped).
	Dropped uint64
	// Sent counts events Amazon accepted.
	Sent uint64
	// Rejected counts events Amazon refused, or that could not be sent
	// (too old, or a request Amazon refused as a whole); they go to the
	// dead letter.
	Rejected uint64
	// Replayed counts dead-lettered events queued again.
	Replayed uint64
	// Batches counts calls to Amazon, retries included.
	Batches uint64
	// QueueDepth is the number of events waiting now, in memory and spooled.
	QueueDepth int
	// Spooled is the number of events in the spool.
	Spooled int
}

// Forwarder owns the delivery of one destination's events.
type Forwarder struct {
	cfg    Config
	sender Sender
	spool  *Spool
	intake chan amazon.Event
	// spooled is signalled (without blocking) after each write to the spool.
	spooled chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	stop    chan struct{}
	// writerDone and senderDone close when the goroutines end.
	writerDone, senderDone chan struct{}
	once                   sync.Once

	queued, dropped, sent, rejected, batches, replayed atomic.Uint64
}

// New starts a forwarder that spools into spool and sends through sender
// until Stop. Events already in the spool are sent first.
func New(cfg Config, sender Sender, spool *Spool) *Forwarder {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	f := &Forwarder{
		cfg:        cfg,
		sender:     sender,
		spool:      spool,
		intake:     make(chan amazon.Event, cfg.QueueSize),
		spooled:    make(chan struct{}, 1),
		ctx:        ctx,
		cancel:     cancel,
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		senderDone: make(chan struct{}),
	}
	go f.writeLoop()
	go f.sendLoop()
	return f
}

// Enqueue hands an event over without blocking. It returns false, and the
// event is counted as dropped, when the intake is full or the forwarder has
// stopped. It is safe to call at any time, also after Stop.
func (f *Forwarder) Enqueue(e amazon.Event) bool {
	select {
	case <-f.stop:
		f.dropped.Add(1)
		return false
	default:
	}
	select {
	case f.intake <- e:
		f.queued.Add(1)
		return true
	default:
		f.dropped.Add(1)
		return false
	}
}

// Stats returns the counters so far.
func (f *Forwarder) Stats() Stats {
	spooled := f.spool.Len()
	return Stats{
		Queued: f.queued.Load(), Dropped: f.dropped.Load(), Sent: f.sent.Load(),
		Rejected: f.rejected.Load(), Batches: f.batches.Load(), Replayed: f.replayed.Load(),
		QueueDepth: len(f.intake) + spooled, Spooled: spooled,
	}
}

// Stop writes what is still in memory to the spool, stops sending (a
// batch in flight is abandoned when ctx ends) and closes the spool. Events
// not yet sent stay in the spool for the next start. Stop may be called
// more than once; Enqueue after Stop drops the event without panicking.
func (f *Forwarder) Stop(ctx context.Context) {
	f.once.Do(func() {
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

// Replay queues the dead-lettered events again, with their event IDs, and
// empties the dead letter. It returns how many were queued.
func (f *Forwarder) Replay() (int, error) {
	if f.cfg.DeadLetter == nil {
		return 0, nil
	}
	n, err := f.cfg.DeadLetter.Take(func(letters []Letter) error {
		events := make([]amazon.Event, len(letters))
		for i := range letters {
			events[i] = letters[i].Event
		}
		return f.spool.Append(events, time.Now())
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

// writeLoop moves events from the intake to the spool, as many per
// transaction as are waiting.
func (f *Forwarder) writeLoop() {
	defer close(f.writerDone)
	group := make([]amazon.Event, 0, 1024)
	for {
		select {
		case e := <-f.intake:
			group = f.spoolGroup(append(group[:0], e))
		case <-f.stop:
			for {
				select {
				case e := <-f.intake:
					group = f.spoolGroup(append(group[:0], e))
				default:
					return
				}
			}
		}
	}
}

// spoolGroup adds what else is waiting to group and writes it all at once.
func (f *Forwarder) spoolGroup(group []amazon.Event) []amazon.Event {
	for len(group) < cap(group) {
		select {
		case e := <-f.intake:
			group = append(group, e)
			continue
		default:
		}
		break
	}
	if err := f.spool.Append(group, time.Now()); err != nil {
		f.dropped.Add(uint64(len(group)))
		f.cfg.Logger.Error("could not write events to the spool; they are lost",
			zap.String("destination", f.cfg.Destination), zap.Int("events", len(group)), zap.Error(err))
	}
	select {
	case f.spooled <- struct{}{}:
	default:
	}
	return group
}

// sendLoop sends spooled events, oldest first, until stopped.
func (f *Forwarder) sendLoop() {
	defer close(f.senderDone)
	for f.ctx.Err() == nil {
		batch, err := f.spool.Oldest(f.cfg.BatchSize)
		if err != nil {
			f.cfg.Logger.Error("reading the spool", zap.Error(err))
			if !f.sleep(time.Second) {
				return
			}
			continue
		}
		if len(batch) < f.cfg.BatchSize && !f.waitForBatch(batch) {
			continue
		}
		f.deliver(batch)
	}
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
	deadline := time.NewTimer(time.Until(batch[0].Queued.Add(f.cfg.FlushInterval)))
	defer deadline.Stop()
	for {
		select {
		case <-deadline.C:
			return true
		case <-f.spooled:
			if f.spool.Len() >= f.cfg.BatchSize {
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
