package fleet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeadLetter is an event in the dead-letter stream, with Amazon's reason.
type DeadLetter struct {
	// Sequence is the letter's place in the dead-letter stream.
	Sequence uint64 `json:"sequence"`
	// At is when it was dead-lettered.
	At time.Time `json:"at"`
	// Status is Amazon's HTTP status.
	Status int `json:"status,omitempty"`
	// Code is Amazon's error code for the event, or HTTP_<status> for a
	// batch refused whole.
	Code string `json:"code"`
	// Reason is Amazon's explanation.
	Reason string `json:"reason"`
	// Event is the event as it was sent: match keys hashed.
	Event []byte `json:"event"`
}

// DeadLetters lists up to limit dead letters, oldest first; any replica
// reads the same list.
func (q *Queue) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	var out []DeadLetter
	err := q.eachDead(ctx, limit, func(m jetstream.Msg, meta *jetstream.MsgMetadata) error {
		out = append(out, letterOf(m, meta))
		return nil
	})
	return out, err
}

// Replay puts up to limit dead letters back in the queue, oldest first, and
// removes each from the dead-letter stream once the queue has it. It
// returns how many it moved.
func (q *Queue) Replay(ctx context.Context, limit int) (int, error) {
	moved := 0
	err := q.eachDead(ctx, limit, func(m jetstream.Msg, meta *jetstream.MsgMetadata) error {
		again := &nats.Msg{Subject: q.names.Subject, Data: m.Data()}
		id := fmt.Sprintf("replay-%s-%d", q.names.DeadStream, meta.Sequence.Stream)
		if _, err := q.js.PublishMsg(ctx, again, jetstream.WithMsgID(id), jetstream.WithExpectStream(q.names.Stream)); err != nil {
			return err
		}
		if err := q.deleteDead(ctx, meta.Sequence.Stream); err != nil {
			return err
		}
		moved++
		return nil
	})
	return moved, err
}

func (q *Queue) deleteDead(ctx context.Context, seq uint64) error {
	s, err := q.js.Stream(ctx, q.names.DeadStream)
	if err != nil {
		return err
	}
	return s.DeleteMsg(ctx, seq)
}

// eachDead reads the dead-letter stream with an ordered consumer, which
// leaves nothing behind on the server.
func (q *Queue) eachDead(ctx context.Context, limit int, do func(jetstream.Msg, *jetstream.MsgMetadata) error) error {
	if _, err := q.ready(ctx); err != nil {
		return err
	}
	c, err := q.js.OrderedConsumer(ctx, q.names.DeadStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	for n := 0; n < limit; {
		batch, err := c.Fetch(min(limit-n, 500), jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			return err
		}
		got := 0
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				return err
			}
			if err := do(m, meta); err != nil {
				return err
			}
			got++
			if meta.NumPending == 0 {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return err
		}
		if got == 0 {
			return nil
		}
		n += got
	}
	return nil
}

func letterOf(m jetstream.Msg, meta *jetstream.MsgMetadata) DeadLetter {
	h := m.Headers()
	status, _ := strconv.Atoi(h.Get("Amazon-Capi-Status"))
	return DeadLetter{Sequence: meta.Sequence.Stream, At: meta.Timestamp, Status: status,
		Code: h.Get("Amazon-Capi-Code"), Reason: h.Get("Amazon-Capi-Reason"), Event: m.Data()}
}
