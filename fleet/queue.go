package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Queue is one destination's stream, its dead-letter stream and their
// consumer, reached through one connection.
type Queue struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	names Names
	spec  Spec
	// replicas and maxBytes are Config's, for the streams.
	replicas int
	maxBytes int64

	mu       sync.Mutex
	consumer jetstream.Consumer // set once the streams exist (ready)
}

// Names are the NATS names of a destination's queue.
type Names struct {
	Stream, Subject         string // the events
	DeadStream, DeadSubject string // the dead letters
	Consumer                string // the durable consumer every replica shares
}

// NamesFor names a destination's queue: id tells destinations apart (the
// same on every replica that sends to the same account), account is
// there to be read by an operator.
func NamesFor(cfg Config, account, id string) Names {
	stream := cfg.stream() + "_" + safe(account) + "_" + safe(id)
	return Names{
		Stream:      stream,
		Subject:     "amazon_capi.events." + stream,
		DeadStream:  stream + "_DEAD",
		DeadSubject: "amazon_capi.dead." + stream,
		Consumer:    "deliver",
	}
}

func safe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 40)])
}

// Spec is what the streams and the consumer are made with, from the
// destination's options.
type Spec struct {
	// DedupeWindow is the stream's duplicate window: an event ID published
	// twice within it is stored once. Zero or less (dedupe_window off)
	// takes 2 minutes: a shipment sent again after a lost acknowledgement
	// must still be stored once.
	DedupeWindow time.Duration
	// MaxAge is Amazon's oldest accepted event: an event stored in the
	// stream longer ago is dead-lettered as TOO_OLD, not sent (the stream
	// itself expires nothing, so nothing leaves it uncounted).
	MaxAge time.Duration
	// BatchSize is the most events a replica takes from the stream for
	// one call to Amazon.
	BatchSize int
	// RequestTimeout bounds one call to Amazon; the acknowledgement wait
	// is longer, and kept alive while a call runs.
	RequestTimeout time.Duration
	// FlushInterval is how long a replica waits for a full batch before it
	// sends what it has; default 1s.
	FlushInterval time.Duration
	// BatchesInFlight bounds the batches the whole fleet has out to Amazon
	// at once; default 2.
	BatchesInFlight int
}

// minDuplicates is the duplicate window when dedupe_window is off.
const minDuplicates = 2 * time.Minute

// deadLetterAge is how long a dead letter is kept.
const deadLetterAge = 30 * 24 * time.Hour

// Open connects to NATS for a destination. It does not wait for NATS: the
// connection is made, and the streams created, as soon as NATS answers.
func Open(cfg Config, names Names, spec Spec, client string) (*Queue, error) {
	opts, err := cfg.options(client)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(strings.Join(cfg.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	// A publish whose acknowledgement never comes (the stream's leader
	// died first) fails after the request timeout, so that it cannot hold
	// a slot of the 1024 for good.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1024), jetstream.WithPublishAsyncTimeout(max(spec.RequestTimeout, time.Second)))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: %w", err)
	}
	if spec.FlushInterval <= 0 {
		spec.FlushInterval = time.Second
	}
	if spec.BatchesInFlight <= 0 {
		spec.BatchesInFlight = 2
	}
	if spec.DedupeWindow <= 0 {
		spec.DedupeWindow = minDuplicates
	}
	return &Queue{nc: nc, js: js, names: names, spec: spec, replicas: cfg.replicas(), maxBytes: cfg.MaxBytes}, nil
}

// Names are the queue's NATS names.
func (q *Queue) Names() Names { return q.names }

// Close closes the connection; publishes still waiting for an
// acknowledgement fail (their events stay in the spool).
func (q *Queue) Close() { q.nc.Close() }

// ready makes the streams and the consumer once NATS answers, and returns
// the consumer.
func (q *Queue) ready(ctx context.Context) (jetstream.Consumer, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.consumer != nil {
		return q.consumer, nil
	}
	if !q.nc.IsConnected() {
		return nil, errNotConnected
	}
	if _, err := q.js.CreateOrUpdateStream(ctx, q.streamConfig()); err != nil {
		return nil, fmt.Errorf("making stream %s: %w", q.names.Stream, err)
	}
	if _, err := q.js.CreateOrUpdateStream(ctx, q.deadStreamConfig()); err != nil {
		return nil, fmt.Errorf("making stream %s: %w", q.names.DeadStream, err)
	}
	c, err := q.js.CreateOrUpdateConsumer(ctx, q.names.Stream, q.consumerConfig())
	if err != nil {
		return nil, fmt.Errorf("making consumer %s on %s: %w", q.names.Consumer, q.names.Stream, err)
	}
	q.consumer = c
	return c, nil
}

// forgetIfGone makes the next ready make the streams and the consumer
// again when err says they are gone (an operator deleted them, or a
// stream's only server was replaced).
func (q *Queue) forgetIfGone(err error) {
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		q.mu.Lock()
		q.consumer = nil
		q.mu.Unlock()
	}
}

func (q *Queue) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        q.names.Stream,
		Description: "amazon_capi: conversion events waiting for Amazon",
		Subjects:    []string{q.names.Subject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    q.replicas,
		MaxBytes:    q.maxBytes,
		Discard:     jetstream.DiscardNew, // a full stream refuses: events wait in the spools
		Duplicates:  q.spec.DedupeWindow,
	}
}

func (q *Queue) deadStreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        q.names.DeadStream,
		Description: "amazon_capi: events Amazon refused for good, to list and replay",
		Subjects:    []string{q.names.DeadSubject},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    q.replicas,
		MaxAge:      deadLetterAge,
		Duplicates:  minDuplicates,
	}
}

// consumerConfig is the shared durable consumer. MaxAckPending bounds the
// events out to Amazon across the fleet; the acknowledgement wait is kept
// alive while a call to Amazon runs (see ackWait).
func (q *Queue) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       q.names.Consumer,
		Description:   "amazon_capi: every replica delivers from here",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.ackWait(),
		MaxAckPending: q.spec.BatchSize * q.spec.BatchesInFlight,
		MaxDeliver:    -1,
		FilterSubject: q.names.Subject,
	}
}

// ackWait is how long JetStream waits for a replica's word on an event
// before it gives the event to another. A replica renews it every third of
// it while a batch is out (Deliverer.keepAlive), so a call to Amazon may
// last longer; a replica that dies, or a delivery lost with a NATS server,
// costs its events this long.
func (q *Queue) ackWait() time.Duration { return ackWait }

const ackWait = 15 * time.Second
