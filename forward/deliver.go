package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// accountIDHint says which ID Amazon-Ads-AccountId takes, for a 401 or 403.
const accountIDHint = "check the account ID (Amazon-Ads-AccountId): Amazon's own Events API sample sends the numeric DSP advertiser ID (alternateIds[].dspAdvertiserId of the advertiserAccounts query), not the ENTITY… ID"

// verdict is what became of one call to Amazon.
type verdict struct {
	retry          bool
	wait           time.Duration
	sent, rejected int
	// again, when set, is what to send again: the events of a 207 answer
	// that Amazon refused for a passing reason (INTERNAL_ERROR, …).
	again []Record
}

// maxPassingRounds is how many times in a row events refused for a passing
// reason are sent again before they go to the back of the spool.
const maxPassingRounds = 5

// requeue moves records to the back of the spool, to be sent after the
// events spooled since.
func (f *Forwarder) requeue(records []Record) {
	f.cfg.Logger.Warn("Amazon keeps refusing events for a passing reason; they go to the back of the spool",
		zap.String("destination", f.cfg.Destination), zap.Int("events", len(records)))
	if err := f.spool.moveToBack(records, time.Now()); err != nil {
		f.cfg.Logger.Error("moving events to the back of the spool; they stay where they are",
			zap.String("destination", f.cfg.Destination), zap.Error(err))
	}
}

// deliver sends one batch of spooled records until Amazon has answered for
// every one of them, retrying what may succeed later. Records Amazon has
// answered for leave the spool; when the forwarder stops mid-retry, the
// rest stay for the next start.
func (f *Forwarder) deliver(batch []Record) {
	batch = f.dropUnsendable(batch)
	if len(batch) == 0 {
		return
	}
	events := eventsOf(batch)
	passing := 0 // rounds in which Amazon refused events for a passing reason
	for attempt := 1; ; attempt++ {
		began := time.Now()
		res, err := f.send(events)
		if res != nil && res.Status == http.StatusRequestEntityTooLarge && len(batch) > 1 {
			f.report(BatchReport{Events: len(batch), Status: res.Status, Took: time.Since(began)})
			f.cfg.Logger.Info("Amazon found the batch too large (413); splitting it",
				zap.String("destination", f.cfg.Destination), zap.Int("events", len(batch)))
			f.deliver(batch[:len(batch)/2])
			f.deliver(batch[len(batch)/2:])
			return
		}
		v := f.handle(batch, res, err)
		report := BatchReport{Events: len(batch), Err: err, Sent: v.sent, Rejected: v.rejected, Took: time.Since(began)}
		if res != nil {
			report.Status, report.Code, report.Message = res.Status, res.Code, res.Message
		}
		f.report(report)
		if !v.retry {
			return
		}
		if v.again != nil {
			if passing++; passing >= maxPassingRounds {
				// An event Amazon keeps refusing "for a passing reason"
				// must not hold up the rest: it goes to the back of the
				// spool and waits its turn again.
				f.requeue(v.again)
				return
			}
			if batch = f.dropUnsendable(v.again); len(batch) == 0 {
				return
			}
			events = eventsOf(batch)
		}
		pause := f.backoff(attempt, v.wait)
		f.cfg.Logger.Info("batch not delivered, will retry",
			zap.String("destination", f.cfg.Destination), zap.Int("events", len(batch)),
			zap.Int("attempt", attempt), zap.Duration("retry_in", pause), zap.Error(err), statusField(res))
		if !f.sleep(pause) {
			return
		}
	}
}

func eventsOf(batch []Record) []json.RawMessage {
	events := make([]json.RawMessage, len(batch))
	for i := range batch {
		events[i] = batch[i].Event
	}
	return events
}

func (f *Forwarder) send(events []json.RawMessage) (*amazon.Result, error) {
	f.batches.Add(1)
	ctx, cancel := context.WithTimeout(f.ctx, f.cfg.RequestTimeout)
	defer cancel()
	return f.sender.Send(ctx, events)
}

// report records a handled call: the last success or error, then the
// counters (so a reader who sees an event counted sees the rest too), then
// AfterBatch.
func (f *Forwarder) report(r BatchReport) {
	f.lastMu.Lock()
	switch {
	case r.Status >= 200 && r.Status < 300 && r.Events > 0 && r.Sent+r.Rejected == 0:
		f.lastError, f.lastErrorAt = fmt.Sprintf("HTTP %d: Amazon refused every event for a passing reason", r.Status), time.Now()
	case r.Status >= 200 && r.Status < 300:
		f.lastSuccess = time.Now()
	case r.Err != nil:
		f.lastError, f.lastErrorAt = r.Err.Error(), time.Now()
	case r.Status != 0:
		f.lastError, f.lastErrorAt = strings.TrimSpace(fmt.Sprintf("HTTP %d %s %s", r.Status, r.Code, r.Message)), time.Now()
	}
	f.lastError = cutBytes(f.lastError, maxLetterReason) // Amazon's message (or a proxy's page), not all of it
	f.lastMu.Unlock()
	f.sent.Add(uint64(r.Sent))
	f.rejected.Add(uint64(r.Rejected))
	if r.Status == http.StatusMultiStatus {
		f.cfg.Logger.Debug("batch delivered", zap.String("destination", f.cfg.Destination),
			zap.Int("events", r.Events), zap.Int("rejected", r.Rejected), zap.Duration("took", r.Took))
	}
	if f.cfg.AfterBatch != nil {
		f.cfg.AfterBatch(r)
	}
}

// handle acts on Amazon's answer (a 413 on a batch of several events is
// split before). A batch Amazon has answered for leaves the spool before it
// is counted.
func (f *Forwarder) handle(batch []Record, res *amazon.Result, err error) verdict {
	switch {
	case err != nil:
		return verdict{retry: f.ctx.Err() == nil}
	case res.Status == http.StatusMultiStatus || (res.Status >= 200 && res.Status < 300):
		refused := refusals(batch, res)
		again := transientlyRefused(batch, refused)
		v := f.accept(batch, res, refused) // dead-letters final rejections before they leave the spool
		f.remove(without(batch, again))
		if len(again) > 0 {
			f.cfg.Logger.Info("Amazon refused events for a passing reason; they stay spooled and are sent again",
				zap.String("destination", f.cfg.Destination), zap.Int("events", len(again)))
			v.retry, v.again = true, again
		}
		return v
	case res.Status == http.StatusTooManyRequests || res.Status >= 500:
		return verdict{retry: true, wait: res.RetryAfter}
	case res.Status == http.StatusUnauthorized:
		f.cfg.Logger.Warn("Amazon refused the access token (401); check access_token or the refresh trio, and "+accountIDHint+"; events are kept and retried",
			zap.String("destination", f.cfg.Destination), zap.String("code", cutBytes(res.Code, 64)), zap.String("message", cutBytes(res.Message, maxLetterReason)))
		return verdict{retry: true}
	case res.Status == http.StatusForbidden:
		f.cfg.Logger.Error("Amazon refused the account (403): "+accountIDHint+", and that the app has the advertising::campaign_management scope",
			zap.String("destination", f.cfg.Destination), zap.String("code", cutBytes(res.Code, 64)), zap.String("message", cutBytes(res.Message, maxLetterReason)))
	}
	f.deadLetter(lettersFor(batch, res.Status, fmt.Sprintf("HTTP_%d", res.Status), fmt.Sprintf("Amazon refused the batch: %d %s %s", res.Status, res.Code, res.Message)))
	f.observeRecords(batch, "rejected")
	f.remove(batch)
	f.cfg.Logger.Error("Amazon refused the whole batch; events moved to the dead letter",
		zap.String("destination", f.cfg.Destination), zap.Int("status", res.Status),
		zap.String("code", cutBytes(res.Code, 64)), zap.String("message", cutBytes(res.Message, maxLetterReason)), zap.Int("events", len(batch)))
	return verdict{rejected: len(batch)}
}

// refusals reads a 207 answer's rejections once per event of the batch:
// index → refused for good (true) or for a passing reason (false). An
// event listed twice is refused for good if either entry says so; indexes
// outside the batch are ignored.
func refusals(batch []Record, res *amazon.Result) map[int]bool {
	out := make(map[int]bool, len(res.Rejected))
	for _, r := range res.Rejected {
		if r.Index >= 0 && r.Index < len(batch) {
			out[r.Index] = out[r.Index] || !r.Transient()
		}
	}
	return out
}

// transientlyRefused are the events of a 207 answer Amazon refused only
// for a passing reason (see amazon.Rejection.Transient): sent again.
func transientlyRefused(batch []Record, refused map[int]bool) []Record {
	var again []Record
	for i := range batch {
		if final, ok := refused[i]; ok && !final {
			again = append(again, batch[i])
		}
	}
	return again
}

// without is batch less the records of some (by spool sequence).
func without(batch, some []Record) []Record {
	if len(some) == 0 {
		return batch
	}
	skip := make(map[uint64]bool, len(some))
	for _, r := range some {
		skip[r.Seq] = true
	}
	out := make([]Record, 0, len(batch)-len(some))
	for _, r := range batch {
		if !skip[r.Seq] {
			out = append(out, r)
		}
	}
	return out
}

// accept counts a 207 answer and logs each event refused for good with
// Amazon's reasons; events refused for a passing reason are neither sent
// nor rejected yet.
func (f *Forwarder) accept(batch []Record, res *amazon.Result, refused map[int]bool) verdict {
	var v verdict
	reasons := map[int][]string{}
	codes := map[int]string{}
	for _, r := range res.Rejected {
		if refused[r.Index] && !r.Transient() {
			for _, fe := range r.Errors {
				reasons[r.Index] = append(reasons[r.Index], fe.String())
			}
			if _, ok := codes[r.Index]; !ok {
				codes[r.Index] = firstCode(r)
			}
		}
	}
	var letters []Letter
	var sent, rejected tally
	for i := range batch {
		final, ok := refused[i]
		switch {
		case !ok:
			sent.add(batch[i].Name())
			v.sent++
		case final:
			rec := &batch[i]
			rejected.add(rec.Name())
			v.rejected++
			letters = append(letters, Letter{Time: time.Now(), Status: res.Status, Reason: strings.Join(reasons[i], "; "), Code: codes[i], Event: rec.Event})
			f.cfg.Logger.Warn("Amazon rejected an event", zap.String("destination", f.cfg.Destination), zap.Int("index", i),
				zap.String("event", rec.Name()), zap.String("event_id", rec.ID()), zap.Strings("reasons", reasons[i]))
		}
	}
	f.deadLetter(letters)
	f.tell(&sent, "sent")
	f.tell(&rejected, "rejected")
	return v
}

// dropUnsendable removes from the batch, and from the spool, the events
// Amazon would refuse whatever happens: older than its window, or unreadable.
func (f *Forwarder) dropUnsendable(batch []Record) []Record {
	cutoff := time.Now().Add(-f.cfg.MaxAge)
	kept := make([]Record, 0, len(batch))
	var gone []Record
	for _, r := range batch {
		t, err := time.Parse(time.RFC3339Nano, r.Time())
		if err == nil && t.After(cutoff) {
			kept = append(kept, r)
			continue
		}
		gone = append(gone, r)
		f.cfg.Logger.Warn("event older than Amazon's window, or unreadable; not sent",
			zap.String("destination", f.cfg.Destination), zap.String("event", r.Name()),
			zap.String("event_id", r.ID()), zap.String("event_time", r.Time()))
	}
	if len(gone) > 0 {
		f.deadLetter(lettersFor(gone, 0, "TOO_OLD", fmt.Sprintf("older than Amazon's %s window, or unreadable; never sent", f.cfg.MaxAge)))
		f.remove(gone)
		f.report(BatchReport{Events: len(gone), Rejected: len(gone)})
	}
	return kept
}

func lettersFor(records []Record, status int, code, reason string) []Letter {
	out := make([]Letter, len(records))
	for i, r := range records {
		out[i] = Letter{Time: time.Now(), Status: status, Code: code, Reason: reason, Event: r.Event}
	}
	return out
}

// firstCode is the code of the first reason Amazon gave for refusing an
// event.
func firstCode(r amazon.Rejection) string {
	if len(r.Errors) == 0 || r.Errors[0].Code == "" {
		return "REJECTED"
	}
	return r.Errors[0].Code
}

// deadLetter keeps letters before their records leave the spool; if that
// fails the events are lost, and the log says so.
func (f *Forwarder) deadLetter(letters []Letter) {
	if len(letters) == 0 {
		return
	}
	kept := len(letters) // refused for good, and kept (or no dead letter is configured)
	if f.cfg.DeadLetter != nil {
		var err error
		kept, err = f.cfg.DeadLetter.Add(letters)
		switch {
		case errors.Is(err, ErrDeadLetterFull):
			if !f.deadLetterFull.Swap(true) {
				f.cfg.Logger.Warn("the dead letter is full: refused events are dropped, and counted as dropped, until it is replayed or moved",
					zap.String("destination", f.cfg.Destination), zap.String("dead_letter", f.cfg.DeadLetter.Path()), zap.Int64("max_bytes", MaxDeadLetterBytes))
			}
		case err != nil:
			f.cfg.Logger.Error("could not write to the dead letter; the refused events are dropped",
				zap.String("destination", f.cfg.Destination), zap.Int("events", len(letters)-kept), zap.Error(err))
		default:
			f.deadLetterFull.Store(false)
		}
	}
	var lettered, dropped tally
	var unknown string // the first code Amazon's schema does not list
	for i := range letters {
		name := recordName(letters[i].Event)
		if i >= kept {
			dropped.add(name)
			continue
		}
		lettered.add(name)
		reason := rejectReason(letters[i].Code)
		if reason == otherReason && unknown == "" {
			unknown = letters[i].Code
		}
		f.ledgers.of(name).reject(reason, 1)
	}
	if unknown != "" {
		f.cfg.Logger.Warn("Amazon (or a proxy before it) answered an error code its schema does not list; counted under reason \"other\"",
			zap.String("destination", f.cfg.Destination), zap.String("code", cutBytes(unknown, 64)))
	}
	f.tell(&lettered, "dead_lettered")
	if len(letters) > kept {
		f.dropped.Add(uint64(len(letters) - kept))
		for i, name := range dropped.names {
			f.ledgers.of(name).droppedSpooled.Add(uint64(dropped.counts[i]))
		}
		if f.cfg.OnEvents != nil {
			dropped.report(f.cfg.OnEvents, "dropped")
		}
	}
}

func (f *Forwarder) remove(records []Record) {
	if err := f.spool.Remove(records); err != nil {
		f.cfg.Logger.Error("removing sent events from the spool; they may be sent again",
			zap.String("destination", f.cfg.Destination), zap.Error(err))
	}
}

func statusField(res *amazon.Result) zap.Field {
	if res == nil {
		return zap.Skip()
	}
	return zap.Int("status", res.Status)
}

// otherReason is the reason a dead-lettered event is counted under when
// its code is none of those rejectReason keeps.
const otherReason = "other"

// rejectReason is the reason label of a dead-lettered event's code: one of
// Amazon's error codes (the schema's ErrorCode enum), TOO_OLD, or
// HTTP_<status> for a batch refused whole; anything else (a made-up code
// from a proxy or a misbehaving endpoint) is "other", so that a metric's
// labels stay a fixed set.
func rejectReason(code string) string {
	switch {
	case amazon.ErrorCodes.Has(code), code == "TOO_OLD":
		return code
	case len(code) == len("HTTP_000") && strings.HasPrefix(code, "HTTP_") && code[5] >= '1' && code[5] <= '5' &&
		code[6] >= '0' && code[6] <= '9' && code[7] >= '0' && code[7] <= '9':
		return code
	}
	return otherReason
}

// Replay queues the dead-lettered events again, with their event IDs, and
// empties the dead letter. It returns how many were queued.
func (f *Forwarder) Replay() (int, error) {
	if f.cfg.DeadLetter == nil {
		return 0, nil
	}
	if !f.started.Load() {
		return 0, errors.New("the forwarder has not started yet; try again once Caddy serves")
	}
	n, err := f.cfg.DeadLetter.Take(func(letters []Letter) error {
		events := make([]json.RawMessage, len(letters))
		for i := range letters {
			events[i] = letters[i].Event
		}
		if err := f.spool.Append(events, time.Now()); err != nil {
			return err
		}
		for i := range letters {
			f.ledgers.of(eventName(letters[i].Event)).replayed.Add(1)
		}
		return nil
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

// sendLoop sends spooled events, oldest first, until stopped.
func (f *Forwarder) sendLoop() {
	defer close(f.senderDone)
	for f.ctx.Err() == nil {
		batch, err := f.spool.Oldest(f.batchSize())
		if err != nil {
			f.cfg.Logger.Error("reading the spool", zap.Error(err))
			if !f.sleep(time.Second) {
				return
			}
			continue
		}
		if len(batch) < f.batchSize() && !f.waitForBatch(batch) {
			continue
		}
		if !f.safeDeliver(batch) && !f.sleep(f.backoff(4, 0)) {
			return
		}
	}
}

// safeDeliver delivers a batch, recovering from a panic (a bug, or a bad
// answer the code did not expect) so the process and the site live on; the
// batch stays spooled and is tried again. It returns false after a panic.
func (f *Forwarder) safeDeliver(batch []Record) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			f.panics.Add(1)
			f.cfg.Logger.Error("recovered from a panic while sending; the batch stays in the spool",
				zap.String("destination", f.cfg.Destination), zap.Any("panic", p), zap.Stack("stack"))
			ok = false
		}
	}()
	f.deliver(batch)
	return true
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
	interval := f.flushInterval.Load()
	deadline := time.NewTimer(time.Until(batch[0].Queued.Add(time.Duration(interval))))
	defer deadline.Stop()
	for {
		select {
		case <-deadline.C:
			return true
		case <-f.spooled:
			// A full batch is waiting, or a reload changed the flush
			// interval (Configure): look again.
			if f.spool.Len() >= f.batchSize() || f.flushInterval.Load() != interval {
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
