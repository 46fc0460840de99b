package forward

import (
	"strings"
	"sync"
	"time"
)

// dedupe remembers the event IDs seen within a window, so a checkout
// submitted twice is sent once. It holds at most limit IDs; past that the
// oldest are forgotten early.
type dedupe struct {
	mu     sync.Mutex
	window time.Duration
	limit  int
	seen   map[string]time.Time
	order  []seenID // arrival order, for expiry
	head   int
}

type seenID struct {
	id string
	at time.Time
}

func newDedupe(window time.Duration, limit int) *dedupe {
	return &dedupe{window: window, limit: limit, seen: make(map[string]time.Time)}
}

// first reports whether id was not seen within the window, and records it.
// An empty ID is never a duplicate.
func (d *dedupe) first(id string, now time.Time) bool {
	if id == "" || d.window <= 0 {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if at, ok := d.seen[id]; ok && now.Sub(at) < d.window {
		return false
	}
	id = strings.Clone(id) // an ID read from a body points into it: keep the ID, not the body
	d.seen[id] = now
	d.order = append(d.order, seenID{id, now})
	return true
}

// expire forgets IDs older than the window, and the oldest past the limit.
func (d *dedupe) expire(now time.Time) {
	for d.head < len(d.order) {
		s := d.order[d.head]
		if now.Sub(s.at) < d.window && len(d.seen) < d.limit {
			break
		}
		if at, ok := d.seen[s.id]; ok && at.Equal(s.at) {
			delete(d.seen, s.id)
		}
		d.order[d.head] = seenID{}
		d.head++
	}
	if d.head > 1024 && d.head*2 > len(d.order) {
		d.order = append(d.order[:0], d.order[d.head:]...)
		d.head = 0
	}
}
