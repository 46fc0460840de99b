package forward

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// deliver sends one batch until Amazon has answered for every event in it,
// retrying what may succeed later, or until the forwarder is cancelled.
func (f *Forwarder) deliver(batch []amazon.Event) {
	batch = f.dropExpired(batch)
	for attempt := 1; len(batch) > 0; attempt++ {
		res, err := f.send(batch)
		wait, retry := f.handle(batch, res, err)
		if !retry {
			return
		}
		pause := f.backoff(attempt, wait)
		f.cfg.Logger.Info("batch not delivered, will retry",
			zap.String("destination", f.cfg.Destination), zap.Int("events", len(batch)),
			zap.Int("attempt", attempt), zap.Duration("retry_in", pause), zap.Error(err), statusField(res))
		if !f.sleep(pause) {
			f.cfg.Logger.Warn("stopped while retrying; events not sent",
				zap.String("destination", f.cfg.Destination), zap.Int("events", len(batch)))
			return
		}
	}
}

func (f *Forwarder) send(batch []amazon.Event) (*amazon.Result, error) {
	f.batches.Add(1)
	ctx, cancel := context.WithTimeout(f.ctx, f.cfg.RequestTimeout)
	defer cancel()
	start := time.Now()
	res, err := f.sender.Send(ctx, batch)
	if err == nil && res.Status == http.StatusMultiStatus {
		f.cfg.Logger.Debug("batch delivered", zap.String("destination", f.cfg.Destination),
			zap.Int("events", len(batch)), zap.Int("rejected", len(res.Rejected)), zap.Duration("took", time.Since(start)))
	}
	return res, err
}

// handle acts on Amazon's answer. It returns whether to retry the same
// batch, and the wait Amazon asked for.
func (f *Forwarder) handle(batch []amazon.Event, res *amazon.Result, err error) (time.Duration, bool) {
	switch {
	case err != nil:
		return 0, true
	case res.Status == http.StatusMultiStatus || (res.Status >= 200 && res.Status < 300):
		f.accept(batch, res)
		return 0, false
	case res.Status == http.StatusTooManyRequests || res.Status >= 500:
		return res.RetryAfter, true
	case res.Status == http.StatusUnauthorized:
		f.cfg.Logger.Warn("Amazon refused the access token (401); check access_token or the refresh trio; events are kept and retried",
			zap.String("destination", f.cfg.Destination), zap.String("code", res.Code), zap.String("message", res.Message))
		return 0, true
	case res.Status == http.StatusRequestEntityTooLarge && len(batch) > 1:
		half := len(batch) / 2
		f.deliver(batch[:half])
		f.deliver(batch[half:])
		return 0, false
	}
	f.rejected.Add(uint64(len(batch)))
	f.cfg.Logger.Error("Amazon refused the whole batch; events not sent",
		zap.String("destination", f.cfg.Destination), zap.Int("status", res.Status),
		zap.String("code", res.Code), zap.String("message", res.Message), zap.Int("events", len(batch)))
	return 0, false
}

// accept counts a 207 answer and logs each rejected event with Amazon's reasons.
func (f *Forwarder) accept(batch []amazon.Event, res *amazon.Result) {
	f.sent.Add(uint64(len(batch) - len(res.Rejected)))
	f.rejected.Add(uint64(len(res.Rejected)))
	for _, r := range res.Rejected {
		fields := []zap.Field{zap.String("destination", f.cfg.Destination), zap.Int("index", r.Index)}
		if r.Index >= 0 && r.Index < len(batch) {
			e := &batch[r.Index]
			fields = append(fields, zap.String("event", e.EventDescription.Name), zap.String("event_id", e.EventID))
		}
		reasons := make([]string, len(r.Errors))
		for i, fe := range r.Errors {
			reasons[i] = fe.String()
		}
		f.cfg.Logger.Warn("Amazon rejected an event", append(fields, zap.Strings("reasons", reasons))...)
	}
}

// dropExpired removes events older than Amazon's window; they would be
// refused anyway.
func (f *Forwarder) dropExpired(batch []amazon.Event) []amazon.Event {
	cutoff := time.Now().Add(-f.cfg.MaxAge)
	kept := batch[:0:0]
	for _, e := range batch {
		t, err := time.Parse(time.RFC3339Nano, e.EventTime)
		if err == nil && t.Before(cutoff) {
			f.rejected.Add(1)
			f.cfg.Logger.Warn("event older than Amazon's window; not sent",
				zap.String("destination", f.cfg.Destination), zap.String("event", e.EventDescription.Name),
				zap.String("event_id", e.EventID), zap.String("event_time", e.EventTime))
			continue
		}
		kept = append(kept, e)
	}
	return kept
}

func statusField(res *amazon.Result) zap.Field {
	if res == nil {
		return zap.Skip()
	}
	return zap.Int("status", res.Status)
}
