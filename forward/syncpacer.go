package forward

import "time"

// syncPacer spaces the spool's fsyncs out: the writer writes each group as
// it comes (a process that dies keeps it) and fsyncs at most once per
// every (a machine that loses power keeps it after that), so that the
// fsyncs per second are bounded whatever the rate of events. A negative
// every means an fsync with each write, done by the write itself. Only the
// writer's goroutine uses it.
type syncPacer struct {
	every time.Duration
	last  time.Time // the last fsync
	timer *time.Timer
	armed bool // timer runs for the next fsync
}

func newSyncPacer(every time.Duration) syncPacer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return syncPacer{every: every, timer: t}
}

// wrote records a write at now and reports whether to fsync now; if not,
// the fsync is due on the channel due returns.
func (p *syncPacer) wrote(now time.Time) bool {
	if p.inline() {
		return false
	}
	wait := p.every - now.Sub(p.last)
	if wait <= 0 {
		return true
	}
	if !p.armed {
		p.timer.Reset(wait)
		p.armed = true
	}
	return false
}

// setEvery changes the pace (a reload). A timer armed for the old pace is
// stopped: the next write arms one for the new pace, or fsyncs at once
// when that much has passed since the last fsync.
func (p *syncPacer) setEvery(every time.Duration) {
	if every == p.every {
		return
	}
	p.every = every
	if p.armed {
		p.timer.Stop()
		p.armed = false
	}
}

// inline says every write is fsynced by the write itself.
func (p *syncPacer) inline() bool { return p.every < 0 }

// due is signalled when an fsync is due.
func (p *syncPacer) due() <-chan time.Time { return p.timer.C }

// synced records an fsync at now.
func (p *syncPacer) synced(now time.Time) {
	p.last = now
	if p.armed {
		p.timer.Stop()
		p.armed = false
	}
}
