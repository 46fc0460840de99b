package forward

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// dedupe remembers the event IDs seen within a window, so a checkout
// submitted twice is sent once. It holds at most limit IDs; past that the
// oldest are forgotten early. It keeps a fixed-size digest of each ID, not
// the ID: an ID comes from the public (a visitor's order ID can be long),
// and the window's memory must not grow with it.
type dedupe struct {
	mu     sync.Mutex
	window atomic.Int64 // a time.Duration; 0 or less: off
	limit  int
	seen   map[idDigest]time.Time
	order  []seenID // arrival order, for expiry
	head   int
}

// idDigest is the first 16 bytes of an ID's SHA-256: two IDs share one by
// chance with a probability far below one in 10^20 at the window's limit.
type idDigest [16]byte

func digestID(id string) idDigest {
	sum := sha256.Sum256([]byte(id))
	return idDigest(sum[:16])
}

type seenID struct {
	id idDigest
	at time.Time
}

func newDedupe(window time.Duration, limit int) *dedupe {
	d := &dedupe{limit: limit, seen: make(map[idDigest]time.Time)}
	d.window.Store(int64(window))
	return d
}

// setWindow changes the window in place. The IDs remembered stay, each
// for the new window; turning deduplication off forgets them all.
func (d *dedupe) setWindow(window time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.window.Store(int64(window))
	if window <= 0 {
		clear(d.seen)
		clear(d.order)
		d.order, d.head = d.order[:0], 0
	}
}

// first reports whether id was not seen within the window, and records it.
// An empty ID is never a duplicate.
func (d *dedupe) first(id string, now time.Time) bool {
	if id == "" || d.window.Load() <= 0 {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	window := time.Duration(d.window.Load()) // under mu: setWindow may have turned it off
	if window <= 0 {
		return true
	}
	d.expire(now, window)
	key := digestID(id)
	if at, ok := d.seen[key]; ok && now.Sub(at) < window {
		return false
	}
	d.seen[key] = now
	d.order = append(d.order, seenID{key, now})
	return true
}

// expire forgets IDs older than the window, and the oldest past the limit.
func (d *dedupe) expire(now time.Time, window time.Duration) {
	for d.head < len(d.order) {
		s := d.order[d.head]
		if now.Sub(s.at) < window && len(d.seen) < d.limit {
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
