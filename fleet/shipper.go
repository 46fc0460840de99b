package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tidwall/gjson"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Shipper moves a replica's spooled events into the queue. It is the
// forwarder's sender in fleet mode (forward.Sender): an event the
// forwarder counts as sent is one JetStream has stored, and one it was
// not told about stays in the spool and is shipped again, with the same
// message ID, so that JetStream stores it once.
type Shipper struct {
	q *Queue
	// shipped counts events JetStream took, duplicates those it already
	// had (shipped by this replica or another within the duplicate
	// window), errors the publishes that failed.
	shipped, duplicates, errors atomic.Uint64
}

// Shipper returns the queue's shipper.
func (q *Queue) Shipper() *Shipper { return &Shipper{q: q} }

// errNotConnected says why nothing is shipped while NATS is unreachable.
var errNotConnected = errors.New("not connected to NATS (the client keeps trying every server); events stay in the spool")

// errNotStored is the code of an event JetStream did not acknowledge; the
// forwarder sends it again (amazon.Rejection.Transient).
const errNotStored = "INTERNAL_ERROR"

// Send publishes events, all at once, and waits for JetStream's
// acknowledgements until ctx ends. The events acknowledged are accepted;
// the others come back as passing refusals, to be shipped again. When no
// event could be published, the error says why (NATS down, no stream).
func (s *Shipper) Send(ctx context.Context, events []json.RawMessage) (*amazon.Result, error) {
	if !s.q.nc.IsConnected() {
		s.errors.Add(uint64(len(events)))
		return nil, errNotConnected
	}
	if _, err := s.q.ready(ctx); err != nil {
		s.errors.Add(uint64(len(events)))
		return nil, err
	}
	futures := make([]jetstream.PubAckFuture, len(events))
	var firstErr error
	for i, e := range events {
		f, err := s.q.js.PublishMsgAsync(s.message(e), s.msgID(e)...)
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		futures[i] = f
	}
	res := &amazon.Result{Status: http.StatusMultiStatus}
	for i, f := range futures {
		if err := s.await(ctx, f); err != nil {
			firstErr = cmpErr(firstErr, err)
			res.Rejected = append(res.Rejected, amazon.Rejection{Index: i, Status: http.StatusServiceUnavailable,
				Errors: []amazon.FieldError{{Code: errNotStored, Message: "not stored in NATS: " + err.Error()}}})
			continue
		}
		res.Accepted++
	}
	s.errors.Add(uint64(len(res.Rejected)))
	if firstErr != nil {
		s.q.forgetIfGone(firstErr)
	}
	if res.Accepted == 0 && firstErr != nil {
		return nil, fmt.Errorf("shipping to NATS stream %s: %w", s.q.names.Stream, firstErr)
	}
	return res, nil
}

func (s *Shipper) message(event json.RawMessage) *nats.Msg {
	return &nats.Msg{Subject: s.q.names.Subject, Data: event}
}

// msgID sets the message ID to the event's ID, which JetStream dedupes.
func (s *Shipper) msgID(event json.RawMessage) []jetstream.PublishOpt {
	if id := gjson.GetBytes(event, "eventId").String(); id != "" {
		return []jetstream.PublishOpt{jetstream.WithMsgID(id), jetstream.WithExpectStream(s.q.names.Stream)}
	}
	return []jetstream.PublishOpt{jetstream.WithExpectStream(s.q.names.Stream)}
}

func (s *Shipper) await(ctx context.Context, f jetstream.PubAckFuture) error {
	if f == nil {
		return errors.New("not published")
	}
	select {
	case ack := <-f.Ok():
		s.shipped.Add(1)
		if ack.Duplicate {
			s.duplicates.Add(1)
		}
		return nil
	case err := <-f.Err():
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// ShipStats are a replica's shipping counts.
type ShipStats struct {
	// Shipped counts the events JetStream acknowledged, duplicates included.
	Shipped uint64 `json:"shipped"`
	// Duplicates counts those JetStream already had: the same event ID
	// shipped within the duplicate window, by this replica or another.
	Duplicates uint64 `json:"duplicates"`
	// Errors counts events a publish failed for; they stay in the spool.
	Errors uint64 `json:"ship_errors"`
}

// Stats returns the shipper's counts.
func (s *Shipper) Stats() ShipStats {
	return ShipStats{Shipped: s.shipped.Load(), Duplicates: s.duplicates.Load(), Errors: s.errors.Load()}
}
