package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Sender sends a batch of events to Amazon (an *amazon.Client).
type Sender interface {
	Send(ctx context.Context, events []json.RawMessage) (*amazon.Result, error)
}

// Deliverer takes batches from the queue's shared consumer and sends them
// to Amazon. Each event is acknowledged when Amazon took it; left for
// JetStream to give again (to any replica), after a backoff, when the call
// failed or Amazon refused it for a passing reason; and put in the
// dead-letter stream, then terminated, when Amazon refused it for good.
type Deliverer struct {
	q      *Queue
	amazon Sender
	log    *zap.Logger
	// After, when set, is called after each call to Amazon.
	After func(Report)

	delivered, deadLettered, retried, batches, redelivered atomic.Uint64

	mu                       sync.Mutex
	lastError                string
	lastErrorAt, lastSuccess time.Time

	ackMu       sync.Mutex
	unconfirmed []unconfirmedAck
}

// Report is one call to Amazon made by a Deliverer.
type Report struct {
	// Events counts the batch's events.
	Events int
	// Delivered counts those Amazon took.
	Delivered int
	// DeadLettered counts those Amazon refused for good.
	DeadLettered int
	// Retried counts those given back to the stream for later.
	Retried int
	// Status is Amazon's HTTP status, 0 when the call failed.
	Status int
	// Err is the call's error.
	Err error
	// Took is how long the call took.
	Took time.Duration
}

// Deliverer returns a deliverer that sends through amazon.
func (q *Queue) Deliverer(amazon Sender, log *zap.Logger) *Deliverer {
	return &Deliverer{q: q, amazon: amazon, log: log}
}

// maxBackoff caps the delay before an event is given out again.
const maxBackoff = time.Minute

// Run delivers until ctx ends. NATS down or the streams not there yet:
// it waits and tries again.
func (d *Deliverer) Run(ctx context.Context) {
	for ctx.Err() == nil {
		d.retryAcks()
		c, err := d.q.ready(ctx)
		if err == nil {
			err = d.fetch(ctx, c)
		}
		if err != nil && ctx.Err() == nil {
			d.log.Debug("waiting for NATS", zap.String("stream", d.q.names.Stream), zap.Error(err))
			sleep(ctx, time.Second)
		}
	}
}

func (d *Deliverer) fetch(ctx context.Context, c jetstream.Consumer) error {
	// The wait goes to the server with the pull request (FetchMaxWait),
	// which ends the batch itself: a client-side deadline could end it
	// while the server is still sending, and a message it sent then would
	// be unseen here and wait out the acknowledgement wait.
	batch, err := c.Fetch(d.q.spec.BatchSize, jetstream.FetchMaxWait(d.q.spec.FlushInterval))
	if err != nil {
		d.q.forgetIfGone(err)
		return err
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) > 0 {
		d.deliver(ctx, msgs)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		d.q.forgetIfGone(err)
		return err
	}
	return nil
}

// deliver sends msgs and settles each, keeping the whole batch alive in
// JetStream until then (a split batch's second half waits for the first).
func (d *Deliverer) deliver(ctx context.Context, msgs []jetstream.Msg) {
	stop := d.keepAlive(msgs)
	defer stop()
	for _, m := range msgs {
		if meta, err := m.Metadata(); err == nil && meta.NumDelivered > 1 {
			d.redelivered.Add(1)
		}
	}
	d.send(ctx, d.dropTooOld(msgs))
}

// send makes one call for msgs (halves, for a batch Amazon finds too
// large) and settles each. A call runs to its end, or its timeout, even
// when the replica stops meanwhile: cancelling a call Amazon may have
// taken would make another replica send its events again.
func (d *Deliverer) send(ctx context.Context, msgs []jetstream.Msg) {
	if len(msgs) == 0 {
		return
	}
	events := make([]json.RawMessage, len(msgs))
	for i, m := range msgs {
		events[i] = m.Data()
	}
	began := time.Now()
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.q.spec.RequestTimeout)
	res, err := d.amazon.Send(callCtx, events)
	cancel()
	d.batches.Add(1)
	if res != nil && res.Status == http.StatusRequestEntityTooLarge && len(msgs) > 1 {
		d.send(ctx, msgs[:len(msgs)/2])
		d.send(ctx, msgs[len(msgs)/2:])
		return
	}
	r := d.settle(msgs, res, err)
	r.Took = time.Since(began)
	d.note(r, res)
	if d.After != nil {
		d.After(r)
	}
}

// dropTooOld dead-letters the events older than Amazon accepts (their
// eventTime, or when the stream stored them if that cannot be read;
// TOO_OLD, as the local spool does) and returns the others.
func (d *Deliverer) dropTooOld(msgs []jetstream.Msg) []jetstream.Msg {
	if d.q.spec.MaxAge <= 0 {
		return msgs
	}
	keep := msgs[:0:0]
	for _, m := range msgs {
		if time.Since(eventTime(m)) > d.q.spec.MaxAge {
			d.dead(m, 0, "TOO_OLD", fmt.Sprintf("older than Amazon accepts (%v): not sent", d.q.spec.MaxAge))
			continue
		}
		keep = append(keep, m)
	}
	return keep
}

// eventTime is when the event happened, as it says; when the stream
// stored it if it does not say.
func eventTime(m jetstream.Msg) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, gjson.GetBytes(m.Data(), "eventTime").String()); err == nil {
		return t
	}
	if meta, err := m.Metadata(); err == nil {
		return meta.Timestamp
	}
	return time.Now()
}

// keepAlive tells JetStream the batch is being worked on while a call to
// Amazon runs, so that a slow call does not see it given to another
// replica; it returns the function that stops it.
func (d *Deliverer) keepAlive(msgs []jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d.q.ackWait() / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range msgs {
					_ = m.InProgress()
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// settle acknowledges, retries or dead-letters each message on Amazon's
// answer.
func (d *Deliverer) settle(msgs []jetstream.Msg, res *amazon.Result, err error) Report {
	r := Report{Events: len(msgs), Err: err}
	if res != nil {
		r.Status = res.Status
	}
	switch {
	case err != nil, res.Status == http.StatusTooManyRequests, res.Status >= 500,
		res.Status == http.StatusUnauthorized, res.Status == http.StatusForbidden:
		var wait time.Duration
		if res != nil {
			wait = res.RetryAfter
		}
		for _, m := range msgs {
			d.retry(m, wait)
		}
		r.Retried = len(msgs)
	case res.Status >= 200 && res.Status < 300:
		refused := map[int]amazon.Rejection{}
		for _, rej := range res.Rejected {
			if prev, seen := refused[rej.Index]; !seen || prev.Transient() {
				refused[rej.Index] = rej
			}
		}
		var taken []jetstream.Msg
		type final struct {
			m   jetstream.Msg
			rej amazon.Rejection
		}
		var finals []final
		for i, m := range msgs {
			rej, ok := refused[i]
			switch {
			case !ok:
				taken = append(taken, m)
			case rej.Transient():
				d.retry(m, 0)
				r.Retried++
			default:
				finals = append(finals, final{m, rej})
			}
		}
		d.ack(taken) // first: what Amazon took must not wait on storing dead letters
		r.Delivered = len(taken)
		for _, f := range finals {
			d.dead(f.m, res.Status, rejectionCode(f.rej), rejectionReason(f.rej))
		}
		r.DeadLettered = len(finals)
	default: // the whole batch refused for good
		for _, m := range msgs {
			d.dead(m, res.Status, fmt.Sprintf("HTTP_%d", res.Status), fmt.Sprintf("Amazon refused the batch: %d %s %s", res.Status, res.Code, res.Message))
		}
		r.DeadLettered = len(msgs)
	}
	return r
}

// ack acknowledges the events Amazon took, each as a request that
// JetStream answers once the consumer has it (many at once), so that an
// acknowledgement lost on the way (the connection dropped, the consumer's
// leader changed or the whole cluster stopped) is known. Those are sent
// again once NATS answers, for as long as JetStream would still take them:
// an acknowledgement lost for good makes JetStream give the event again,
// and Amazon would get it twice.
func (d *Deliverer) ack(msgs []jetstream.Msg) {
	if len(msgs) == 0 {
		return
	}
	d.delivered.Add(uint64(len(msgs)))
	if lost := d.confirmAcks(msgs); len(lost) > 0 {
		until := time.Now().Add(d.q.ackWait())
		d.ackMu.Lock()
		for _, m := range lost {
			d.unconfirmed = append(d.unconfirmed, unconfirmedAck{msg: m, until: until})
		}
		d.ackMu.Unlock()
	}
}

// confirmAcks acknowledges msgs and returns those JetStream did not
// confirm.
func (d *Deliverer) confirmAcks(msgs []jetstream.Msg) (lost []jetstream.Msg) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, acksAtOnce)
	for _, m := range msgs {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), ackConfirmWait)
			defer cancel()
			if _, err := d.q.nc.RequestWithContext(ctx, m.Reply(), ackPayload); err != nil {
				mu.Lock()
				lost = append(lost, m)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lost
}

// acksAtOnce bounds the acknowledgements waiting for JetStream's answer.
const acksAtOnce = 64

// ackPayload is JetStream's acknowledgement, as Msg.Ack sends it.
var ackPayload = []byte("+ACK")

// ackConfirmWait bounds the wait for JetStream to confirm an
// acknowledgement.
const ackConfirmWait = 5 * time.Second

// unconfirmedAck is an event Amazon took whose acknowledgement JetStream
// has not confirmed, and until when it would still take it.
type unconfirmedAck struct {
	msg   jetstream.Msg
	until time.Time
}

// retryAcks sends again the acknowledgements JetStream has not confirmed,
// once NATS is reachable.
func (d *Deliverer) retryAcks() {
	d.ackMu.Lock()
	defer d.ackMu.Unlock()
	if len(d.unconfirmed) == 0 || !d.q.nc.IsConnected() {
		return
	}
	var msgs []jetstream.Msg
	until := map[jetstream.Msg]time.Time{}
	for _, u := range d.unconfirmed {
		if time.Now().Before(u.until) {
			msgs = append(msgs, u.msg)
			until[u.msg] = u.until
		}
	}
	d.unconfirmed = d.unconfirmed[:0]
	for _, m := range d.confirmAcks(msgs) {
		d.unconfirmed = append(d.unconfirmed, unconfirmedAck{msg: m, until: until[m]})
	}
}

// retry leaves m for JetStream to give again after a backoff that grows
// with its deliveries (at least wait, Amazon's Retry-After).
func (d *Deliverer) retry(m jetstream.Msg, wait time.Duration) {
	n := uint64(1)
	if meta, err := m.Metadata(); err == nil {
		n = max(meta.NumDelivered, 1)
	}
	_ = m.NakWithDelay(max(wait, backoff(n)))
	d.retried.Add(1)
}

func backoff(deliveries uint64) time.Duration {
	d := time.Second << min(deliveries-1, 6)
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// dead puts m in the dead-letter stream, then terminates it. When the
// dead letter cannot be stored, m is left for a retry: never lost.
func (d *Deliverer) dead(m jetstream.Msg, status int, code, reason string) {
	letter := &nats.Msg{Subject: d.q.names.DeadSubject, Data: m.Data(), Header: nats.Header{}}
	letter.Header.Set("Amazon-Capi-Status", fmt.Sprint(status))
	letter.Header.Set("Amazon-Capi-Code", cut(code, 64))
	letter.Header.Set("Amazon-Capi-Reason", cut(reason, 1024))
	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(d.q.names.DeadStream)}
	if meta, err := m.Metadata(); err == nil {
		// The event's ID and its place in the stream: the same letter
		// stored twice (a term lost, the event refused again) is kept once.
		opts = append(opts, jetstream.WithMsgID(fmt.Sprintf("%s/%d", gjson.GetBytes(m.Data(), "eventId").String(), meta.Sequence.Stream)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.q.js.PublishMsg(ctx, letter, opts...); err != nil {
		d.log.Warn("storing a dead letter in NATS failed; the event is given again later", zap.String("stream", d.q.names.DeadStream), zap.Error(err))
		_ = m.NakWithDelay(backoff(4))
		return
	}
	_ = m.TermWithReason(cut(code, 64))
	d.deadLettered.Add(1)
}

func rejectionCode(r amazon.Rejection) string {
	if len(r.Errors) > 0 {
		return r.Errors[0].Code
	}
	return fmt.Sprintf("HTTP_%d", r.Status)
}

func rejectionReason(r amazon.Rejection) string {
	var parts []string
	for _, e := range r.Errors {
		parts = append(parts, strings.TrimSpace(e.FieldLocation+" "+e.Message))
	}
	return strings.Join(parts, "; ")
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (d *Deliverer) note(r Report, res *amazon.Result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case r.Err != nil:
		d.lastError, d.lastErrorAt = cut(r.Err.Error(), 1024), time.Now()
	case r.Delivered > 0:
		d.lastSuccess = time.Now()
	case res != nil && (res.Status < 200 || res.Status >= 300):
		d.lastError, d.lastErrorAt = cut(strings.TrimSpace(fmt.Sprintf("HTTP %d %s %s", res.Status, res.Code, res.Message)), 1024), time.Now()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// DeliverStats are a replica's deliveries from the queue.
type DeliverStats struct {
	// Delivered counts events Amazon took from this replica.
	Delivered uint64 `json:"delivered"`
	// DeadLettered counts events Amazon refused for good, now in the
	// dead-letter stream.
	DeadLettered uint64 `json:"dead_lettered"`
	// Retried counts events left for JetStream to give again.
	Retried uint64 `json:"retried"`
	// Batches counts calls to Amazon.
	Batches uint64 `json:"batches"`
	// Redelivered counts events this replica got that JetStream had given
	// out before (a retry, or a replica gone or late with its
	// acknowledgement).
	Redelivered uint64 `json:"redelivered"`
	// LastError is the last failed call's error.
	LastError string `json:"last_error,omitempty"`
	// LastErrorAt is when that call failed.
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LastSuccess is when Amazon last took events from this replica.
	LastSuccess time.Time `json:"last_success,omitzero"`
}

// Stats returns the deliverer's counts.
func (d *Deliverer) Stats() DeliverStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return DeliverStats{Delivered: d.delivered.Load(), DeadLettered: d.deadLettered.Load(), Retried: d.retried.Load(),
		Batches: d.batches.Load(), Redelivered: d.redelivered.Load(), LastError: d.lastError, LastErrorAt: d.lastErrorAt, LastSuccess: d.lastSuccess}
}
