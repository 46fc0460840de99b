// Package forward delivers events to Amazon in the background: a bounded
// queue that never blocks the caller, a batcher that sends at most BatchSize
// events per request or whatever is waiting every FlushInterval, and the
// handling of Amazon's answer (per-event rejections, retries with backoff,
// splitting a batch that is too large).
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
	// QueueSize bounds the in-memory queue; default 10,000 events.
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
	// (too old, or a request Amazon refused as a whole).
	Rejected uint64
	// Batches counts calls to Amazon, retries included.
	Batches uint64
	// QueueDepth is the number of events waiting now.
	QueueDepth int
}

// Forwarder owns the delivery of one destination's events.
type Forwarder struct {
	cfg    Config
	sender Sender
	queue  chan amazon.Event
	ctx    context.Context
	cancel context.CancelFunc
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	queued, dropped, sent, rejected, batches atomic.Uint64
}

// New starts a forwarder that sends through sender until Stop.
func New(cfg Config, sender Sender) *Forwarder {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	f := &Forwarder{
		cfg:    cfg,
		sender: sender,
		queue:  make(chan amazon.Event, cfg.QueueSize),
		ctx:    ctx,
		cancel: cancel,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go f.run()
	return f
}

// Enqueue hands an event over without blocking. It returns false, and the
// event is counted as dropped, when the queue is full or the forwarder has
// stopped. It is safe to call at any time, also after Stop.
func (f *Forwarder) Enqueue(e amazon.Event) bool {
	if f.ctx.Err() != nil {
		f.dropped.Add(1)
		return false
	}
	select {
	case f.queue <- e:
		f.queued.Add(1)
		return true
	default:
		f.dropped.Add(1)
		return false
	}
}

// Stats returns the counters so far.
func (f *Forwarder) Stats() Stats {
	return Stats{
		Queued: f.queued.Load(), Dropped: f.dropped.Load(), Sent: f.sent.Load(),
		Rejected: f.rejected.Load(), Batches: f.batches.Load(), QueueDepth: len(f.queue),
	}
}

// Stop sends what is queued until ctx ends, then stops the forwarder. Events
// still queued when ctx ends are logged as not sent. Stop may be called more
// than once; Enqueue after Stop drops the event without panicking.
func (f *Forwarder) Stop(ctx context.Context) {
	f.once.Do(func() { close(f.stop) })
	select {
	case <-f.done:
	case <-ctx.Done():
		f.cancel()
		<-f.done
	}
	f.cancel()
}

func (f *Forwarder) run() {
	defer close(f.done)
	batch := make([]amazon.Event, 0, f.cfg.BatchSize)
	timer := time.NewTimer(f.cfg.FlushInterval)
	defer timer.Stop()
	for {
		select {
		case e := <-f.queue:
			batch = append(batch, e)
			if len(batch) >= f.cfg.BatchSize {
				f.deliver(batch)
				batch = batch[:0]
			} else if len(batch) == 1 {
				timer.Reset(f.cfg.FlushInterval)
			}
		case <-timer.C:
			if len(batch) > 0 {
				f.deliver(batch)
				batch = batch[:0]
			}
		case <-f.stop:
			f.drain(batch)
			return
		}
	}
}

// drain sends the partial batch and everything still queued.
func (f *Forwarder) drain(batch []amazon.Event) {
	for {
		select {
		case e := <-f.queue:
			batch = append(batch, e)
			if len(batch) < f.cfg.BatchSize {
				continue
			}
		default:
		}
		if len(batch) == 0 {
			return
		}
		f.deliver(batch)
		if f.ctx.Err() != nil {
			if n := len(f.queue); n > 0 {
				f.cfg.Logger.Warn("stopped before sending every event", zap.String("destination", f.cfg.Destination), zap.Int("unsent", n))
			}
			return
		}
		batch = batch[:0]
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
