package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/fleet"
	"github.com/shopsignal/caddy-amazon-capi/forward"
)

// fleetMode is a destination's part in a fleet (the nats option): the
// forwarder ships spooled events into the queue (Send), and a deliverer
// sends from the queue to Amazon.
type fleetMode struct {
	config fleet.Config
	names  fleet.Names
	spec   fleet.Spec

	mu        sync.Mutex
	queue     *fleet.Queue
	shipper   *fleet.Shipper
	deliverer *fleet.Deliverer
	stop      context.CancelFunc
	done      chan struct{}
	logger    *zap.Logger

	// stateMu guards state, apart from mu: reading NATS for it must not
	// hold up shipping.
	stateMu sync.Mutex
	state   cachedState
}

// fleetStateTTL is how long the stream's state is reused between reads:
// /metrics, the admin JSON and the status page ask NATS at most this often.
const fleetStateTTL = 2 * time.Second

type cachedState struct {
	at    time.Time
	state fleet.State
}

func newFleetMode(s settings) *fleetMode {
	if s.fleet == nil {
		return nil
	}
	window := s.dedupeWindow
	if window == 0 {
		window = forward.DefaultDedupeWindow
	}
	return &fleetMode{
		config: *s.fleet,
		names:  fleet.NamesFor(*s.fleet, s.accountID, fleetID(s)),
		spec: fleet.Spec{DedupeWindow: window, MaxAge: amazon.MaxEventAge(s.api),
			BatchSize: s.batchSize, RequestTimeout: amazonRequestTimeout, FlushInterval: s.flushInterval},
	}
}

// shipMaxBackoff caps the wait between shipments that failed (NATS down
// or partitioned): shipping resumes within it of NATS coming back.
const shipMaxBackoff = 5 * time.Second

// amazonRequestTimeout bounds a call to Amazon (forward.Config's default).
const amazonRequestTimeout = 30 * time.Second

// fleetID tells destinations apart in NATS: the same on every replica
// that sends to the same account at the same endpoint through the same API.
func fleetID(s settings) string {
	h := sha256.Sum256([]byte(string(s.api) + "\x00" + s.endpoint + "\x00" + s.accountID))
	return hex.EncodeToString(h[:4])
}

// start connects to NATS (without waiting for it) and starts delivering
// from the queue through d; once.
func (f *fleetMode) start(d *liveDestination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queue != nil {
		return nil
	}
	host, _ := os.Hostname()
	q, err := fleet.Open(f.config, f.names, f.spec, "caddy amazon_capi "+host)
	if err != nil {
		return err
	}
	f.queue, f.shipper, f.logger = q, q.Shipper(), d.logger
	f.deliverer = q.Deliverer(amazonOf{d}, d.logger)
	label := d.settings.label()
	f.deliverer.After = func(r fleet.Report) { theMetrics().onBatch(label, r.Status, r.Took) }
	ctx, stop := context.WithCancel(context.Background())
	f.stop, f.done = stop, make(chan struct{})
	go func() {
		defer close(f.done)
		f.deliverer.Run(ctx)
	}()
	d.logger.Info("fleet mode: events go through NATS JetStream", zap.String("stream", f.names.Stream))
	return nil
}

// ship is the forwarder's Send in fleet mode.
func (f *fleetMode) ship(ctx context.Context, events []json.RawMessage) (*amazon.Result, error) {
	f.mu.Lock()
	s := f.shipper
	f.mu.Unlock()
	if s == nil { // a forwarder stopped before its config started spools what it holds, and sends nothing yet
		return nil, errors.New("fleet mode has not started: the events stay in the spool")
	}
	return s.Send(ctx, events)
}

// close stops delivering (events out to Amazon are given back to the
// queue) and closes the connection; after the forwarder stopped.
func (f *fleetMode) close() {
	f.mu.Lock()
	q, stop, done := f.queue, f.stop, f.done
	f.mu.Unlock()
	if q == nil {
		return
	}
	stop()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		f.logger.Warn("a call to Amazon outlasted the stop; JetStream gives its events to another replica, and Amazon keeps the first of an eventId",
			zap.String("stream", f.names.Stream))
	}
	q.Close()
}

// stateNow is the queue's state, read from NATS at most every fleetStateTTL.
func (f *fleetMode) stateNow() fleet.State {
	f.mu.Lock()
	q := f.queue
	f.mu.Unlock()
	if q == nil {
		return fleet.State{Err: "not started"}
	}
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	if time.Since(f.state.at) > fleetStateTTL {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		f.state = cachedState{at: time.Now(), state: q.State(ctx)}
		cancel()
	}
	return f.state.state
}

// stats are the replica's shipping and delivering counts.
func (f *fleetMode) stats() (fleet.ShipStats, fleet.DeliverStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queue == nil {
		return fleet.ShipStats{}, fleet.DeliverStats{}
	}
	return f.shipper.Stats(), f.deliverer.Stats()
}

// amazonOf sends to Amazon with the destination's current client.
type amazonOf struct{ d *liveDestination }

func (a amazonOf) Send(ctx context.Context, events []json.RawMessage) (*amazon.Result, error) {
	return a.d.client.Load().Send(ctx, events)
}

// sameFleet reports whether two configs put a destination in the same
// fleet (or both in none).
func sameFleet(a, b *fleet.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(*a, *b)
}
