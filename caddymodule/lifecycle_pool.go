package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/forward"
	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

// destinations holds the state that outlives config reloads: one forwarder
// and spool per destination, kept while any loaded config uses it.
var destinations = caddy.NewUsagePool()

// stopTimeout bounds how long a forwarder that no config uses any more
// takes to write its in-memory events to the spool and stop.
const stopTimeout = 10 * time.Second

// liveDestination is the live side of a Destination.
type liveDestination struct {
	key           string
	settings      settings
	forwarder     *forward.Forwarder
	deadLetter    *forward.DeadLetter
	client        atomic.Pointer[amazon.Client]
	logger        *zap.Logger
	logCore       *atomic.Pointer[zapcore.Core]
	counters      counters
	quality       qualities
	confirmations confirmations
	// fleet is set in fleet mode (the nats option).
	fleet *fleetMode

	// options are the forwarder options of the newest config that uses the
	// destination, kept until that config starts (start): a reload that
	// fails after its handlers are provisioned changes nothing.
	options atomic.Pointer[forward.Config]

	mu          sync.Mutex
	credentials [6]string
}

// counters count the panics recovered while building events; what became
// of matched requests is counted per event name (confirmations) and by the
// forwarder (queued, deduped, dropped, …).
type counters struct {
	panics atomic.Uint64
}

// acquireDestination returns the destination for s, creating it on first
// use. A destination kept across a reload takes the new credentials.
func acquireDestination(s settings, logger *zap.Logger) (*liveDestination, error) {
	val, loaded, err := destinations.LoadOrNew(s.key(), func() (caddy.Destructor, error) {
		return newDestination(s, logger)
	})
	if err != nil {
		return nil, err
	}
	d := val.(*liveDestination)
	core := logger.Core()
	d.logCore.Store(&core)
	if loaded {
		if err := d.update(s); err != nil {
			d.release()
			return nil, err
		}
	}
	return d, nil
}

func newDestination(s settings, configLogger *zap.Logger) (*liveDestination, error) {
	// The destination outlives the config that created it: it logs through
	// the logger of the newest config that uses it (see liveCore).
	live, core := newLiveLogger(configLogger)
	logger := live.With(zap.String("destination", s.label()))
	d := &liveDestination{key: s.key(), settings: s, logger: logger, logCore: core, fleet: newFleetMode(s)}
	if s.dryRun {
		return d, nil
	}
	if err := d.update(s); err != nil {
		return nil, err
	}
	// The spool is opened when the config starts serving (start), not
	// here: `caddy validate` provisions the config too, and must neither
	// create files nor fail beside the Caddy that runs this config.
	spoolDir := s.spoolDir()
	open := func() (*forward.Spool, error) { return forward.OpenSpool(spoolDir) }
	d.deadLetter = forward.OpenDeadLetter(s.deadLetterFile())
	cfg := s.liveOptions()
	cfg.Destination = s.label()
	cfg.MaxAge = amazon.MaxEventAge(s.api)
	cfg.Logger = live // the forwarder names the destination in each line itself
	cfg.DeadLetter = d.deadLetter
	if s.fleet != nil {
		cfg.MaxBackoff = shipMaxBackoff
	}
	cfg.OnEvents = theMetrics().onEvents(s.label())
	cfg.AfterBatch = func(r forward.BatchReport) {
		if d.fleet == nil && r.Events > 0 && (r.Status != 0 || r.Err != nil) { // in fleet mode, the deliverer's calls are Amazon's
			theMetrics().onBatch(s.label(), r.Status, r.Took)
		}
	}
	d.forwarder = forward.NewDeferred(cfg, d, open)
	return d, nil
}

// start opens the destination's spool and starts delivery, once; the
// amazon_capi app calls it when the config that uses the destination
// starts. Events a request queued before then wait in the forwarder's
// intake.
func (d *liveDestination) start() error {
	if d.forwarder == nil {
		return nil // dry run: nothing to open
	}
	if opts := d.options.Swap(nil); opts != nil {
		d.forwarder.Configure(*opts)
	}
	if d.fleet != nil {
		if err := d.fleet.start(d); err != nil {
			return err
		}
	}
	return d.forwarder.Start()
}

// update builds a new Amazon client when the credentials changed, and
// keeps the forwarder options for start.
func (d *liveDestination) update(s settings) error {
	if s.dryRun != d.settings.dryRun {
		return fmt.Errorf("dry_run changed for a destination that is in use; it takes effect after a restart")
	}
	if !sameFleet(s.fleet, d.settings.fleet) {
		return fmt.Errorf("nats changed for a destination that is in use; it takes effect after a restart (the spool's events are shipped then)")
	}
	if s.dryRun {
		return nil // nothing is sent: no client, no forwarder
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.forwarder != nil {
		opts := s.liveOptions()
		d.options.Store(&opts)
	}
	if d.client.Load() != nil && d.credentials == s.credentials() {
		return nil
	}
	httpClient := outboundClient()
	tokens, err := amazon.NewTokenSource(amazon.TokenConfig{
		ClientID: s.clientID, ClientSecret: s.clientSecret, RefreshToken: s.refreshToken,
		AccessToken: s.accessToken, TokenURL: s.tokenURL, HTTP: httpClient,
		OnRefresh: d.onRefresh,
	})
	if err != nil {
		return err
	}
	d.client.Store(&amazon.Client{
		Endpoint: s.endpoint, API: s.api, ClientID: s.clientID, AccountID: s.accountID,
		Tokens: tokens, HTTP: httpClient,
	})
	d.credentials = s.credentials()
	return nil
}

// onRefresh counts token refreshes and logs a failed one.
func (d *liveDestination) onRefresh(err error) {
	theMetrics().onRefresh(d.settings.label())(err)
	if err != nil {
		d.logger.Warn("could not refresh the Amazon access token; events are kept and retried", zap.Error(err))
	}
}

// Send sends a batch with the current client; it makes the destination the
// forwarder's Sender, so a reload can change credentials under it.
func (d *liveDestination) Send(ctx context.Context, events []json.RawMessage) (*amazon.Result, error) {
	if d.fleet != nil {
		return d.fleet.ship(ctx, events)
	}
	return d.client.Load().Send(ctx, events)
}

// Destruct stops the forwarder once no loaded config uses the destination;
// unsent events stay in the spool.
func (d *liveDestination) Destruct() error {
	if d.forwarder == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	d.forwarder.Stop(ctx)
	if d.fleet != nil {
		d.fleet.close()
	}
	return nil
}

func (d *liveDestination) release() {
	_, _ = destinations.Delete(d.key)
}

// enqueue hands an event to the forwarder, or logs it in dry-run mode. An
// event whose ID was generated (fresh) skips the dedupe window.
func (d *liveDestination) enqueue(e amazon.Event, fresh bool) {
	if d.forwarder == nil {
		d.dryRun(e)
		return
	}
	if fresh {
		d.count(d.forwarder.EnqueueFresh(e), e)
		return
	}
	d.count(d.forwarder.Enqueue(e), e)
}

func (d *liveDestination) count(o forward.Outcome, e amazon.Event) {
	switch o {
	case forward.Deduped:
		theMetrics().event(d.settings.label(), e.EventDescription.Name, "deduped")
	case forward.Dropped:
		theMetrics().event(d.settings.label(), e.EventDescription.Name, "dropped")
	case forward.Stopped:
		d.handOver(e)
	}
}

// lose counts an event a stopped destination could not hand over.
func (d *liveDestination) lose(e amazon.Event) {
	d.confirmations.of(e.EventDescription.Name).lost.Add(1)
	theMetrics().event(d.settings.label(), e.EventDescription.Name, "dropped")
}

// handOver keeps an event that a request still served by an old config
// built after that config's destination stopped: it goes to the live
// destination with the same key, as that destination is (its settings,
// credentials and logger are the newer config's and stay so), or, if the
// destination was removed, to one opened just to spool it (its spool is
// sent at the next start).
func (d *liveDestination) handOver(e amazon.Event) {
	val, loaded, err := destinations.LoadOrNew(d.key, func() (caddy.Destructor, error) {
		return newDestination(d.settings, zap.New(*d.logCore.Load()))
	})
	if err != nil {
		d.lose(e)
		d.logger.Error("an event built after its destination stopped could not be kept", zap.Error(err))
		return
	}
	live := val.(*liveDestination)
	defer live.release()
	if live.forwarder == nil || live == d {
		d.lose(e)
		return
	}
	if !loaded { // opened just for this event: nothing else starts it
		if err := live.start(); err != nil {
			d.lose(e)
			d.logger.Error("an event built after its destination stopped could not be kept", zap.Error(err))
			return
		}
	}
	live.confirmations.of(e.EventDescription.Name).confirmed.Add(1) // the live destination accounts for it now
	live.count(live.forwarder.Enqueue(e), e)
}

// dryRun validates the event as Amazon's schema says (with the sandbox's
// validator) and logs it, hashed keys only, with the verdict.
func (d *liveDestination) dryRun(e amazon.Event) {
	d.confirmations.of(e.EventDescription.Name).dryRun.Add(1)
	wire, verdict := encodeAndCheck(e, d.settings.api)
	d.logger.Info("dry run: event built, not sent",
		zap.String("event", e.EventDescription.Name), zap.String("event_id", e.EventID),
		zap.Bool("valid", verdict.Accepted), zap.Any("errors", verdict.Errors), zap.Any("body", json.RawMessage(wire)))
}

// encodeAndCheck is the event as the API version sends it, with the
// sandbox validator's verdict: what dry_run logs and `try` prints.
func encodeAndCheck(e amazon.Event, api amazon.Version) (json.RawMessage, sandbox.Received) {
	wire, _ := json.Marshal(e)
	if api == amazon.V1 {
		wire, _ = json.Marshal(e.ToV1())
	}
	return wire, sandbox.Check(wire, string(api), time.Now())
}
