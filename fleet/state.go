package fleet

import (
	"context"
	"time"
)

// State is the queue as NATS sees it, shared by the fleet.
type State struct {
	// Messages counts the events in the stream: waiting, or out to a
	// replica and not yet acknowledged.
	Messages uint64 `json:"messages"`
	// Bytes is their size.
	Bytes uint64 `json:"bytes"`
	// Pending counts events no replica has taken yet.
	Pending uint64 `json:"consumer_pending"`
	// AckPending counts events out to a replica, not yet acknowledged.
	AckPending int `json:"ack_pending"`
	// Redelivered counts events out again after a retry or a replica's loss.
	Redelivered int `json:"redelivered"`
	// DeadLetters counts the events in the dead-letter stream.
	DeadLetters uint64 `json:"dead_letters"`
	// OldestAge is the age of the oldest event in the stream.
	OldestAge time.Duration `json:"oldest_age_ns"`
	// Err says why the state could not be read (NATS down); the counts
	// are then zero.
	Err string `json:"error,omitempty"`
}

// State reads the streams' and the consumer's state.
func (q *Queue) State(ctx context.Context) State {
	c, err := q.ready(ctx)
	if err != nil {
		return State{Err: err.Error()}
	}
	var st State
	ci, err := c.Info(ctx)
	if err != nil {
		return State{Err: err.Error()}
	}
	st.Pending, st.AckPending, st.Redelivered = ci.NumPending, ci.NumAckPending, ci.NumRedelivered
	s, err := q.js.Stream(ctx, q.names.Stream)
	if err == nil {
		if info, ierr := s.Info(ctx); ierr == nil {
			st.Messages, st.Bytes = info.State.Msgs, info.State.Bytes
			if info.State.Msgs > 0 {
				st.OldestAge = time.Since(info.State.FirstTime)
			}
		}
	}
	if dead, derr := q.js.Stream(ctx, q.names.DeadStream); derr == nil {
		if info, ierr := dead.Info(ctx); ierr == nil {
			st.DeadLetters = info.State.Msgs
		}
	}
	if err != nil {
		st.Err = err.Error()
	}
	return st
}
