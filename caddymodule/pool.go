package caddymodule

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/forward"
)

// destinations holds the state that outlives config reloads: one forwarder
// per destination, kept while any loaded config uses it.
var destinations = caddy.NewUsagePool()

// stopTimeout bounds how long a forwarder that no config uses any more
// keeps sending before it stops.
const stopTimeout = 10 * time.Second

// destination is the live side of a Destination.
type destination struct {
	key       string
	settings  settings
	forwarder *forward.Forwarder
	logger    *zap.Logger
	counters  counters
}

// counters count what happened to matched requests, per outcome.
type counters struct {
	matched, invalid, queued, dropped, dryRun, panics atomic.Uint64
}

func acquireDestination(s settings, _ *zap.Logger) (*destination, error) {
	val, _, err := destinations.LoadOrNew(s.key(), func() (caddy.Destructor, error) {
		return newDestination(s)
	})
	if err != nil {
		return nil, err
	}
	return val.(*destination), nil
}

func newDestination(s settings) (*destination, error) {
	// The destination outlives the config that created it, so it logs
	// through Caddy's default logger rather than one config's logger.
	logger := caddy.Log().Named("http.handlers.amazon_capi").With(zap.String("destination", s.label()))
	d := &destination{key: s.key(), settings: s, logger: logger}
	if s.dryRun {
		return d, nil
	}
	httpClient := outboundClient()
	tokens, err := amazon.NewTokenSource(amazon.TokenConfig{
		ClientID: s.clientID, ClientSecret: s.clientSecret, RefreshToken: s.refreshToken,
		AccessToken: s.accessToken, TokenURL: s.tokenURL, HTTP: httpClient,
	})
	if err != nil {
		return nil, err
	}
	client := &amazon.Client{
		Endpoint: s.endpoint, API: s.api, ClientID: s.clientID, AccountID: s.accountID,
		Tokens: tokens, HTTP: httpClient,
	}
	d.forwarder = forward.New(forward.Config{
		Destination:   s.label(),
		BatchSize:     s.batchSize,
		FlushInterval: s.flushInterval,
		MaxAge:        amazon.MaxEventAge(s.api),
		Logger:        logger,
	}, client)
	return d, nil
}

// Destruct stops the forwarder once no loaded config uses the destination.
func (d *destination) Destruct() error {
	if d.forwarder == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	d.forwarder.Stop(ctx)
	return nil
}

func (d *destination) release() {
	_, _ = destinations.Delete(d.key)
}

// enqueue hands an event to the forwarder, or logs it in dry-run mode.
func (d *destination) enqueue(e amazon.Event) {
	if d.forwarder == nil {
		d.counters.dryRun.Add(1)
		d.logger.Info("dry run: event built, not sent", zap.Any("event", e))
		return
	}
	if d.forwarder.Enqueue(e) {
		d.counters.queued.Add(1)
		return
	}
	d.counters.dropped.Add(1)
}
