package forward

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The window's memory does not grow with the IDs' length: anyone can send
// a checkout with a 60 KB order ID, and the window keeps each ID for
// minutes. It keeps a fixed-size digest, and still dedupes by the whole ID.
func TestTheDedupeWindowKeepsAFixedSizeDigestOfEachID(t *testing.T) {
	d := newDedupe(time.Minute, 200_000)
	long := strings.Repeat("x", 60_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 3000 {
		if !d.first(fmt.Sprintf("%s-%d", long, i), time.Now()) {
			t.Fatalf("ID %d taken for a duplicate", i)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 8<<20 {
		t.Errorf("3,000 IDs of 60 KB grew the heap by %d MiB, want a few (the IDs themselves are 180 MB)", grown>>20)
	}
	if d.first(long+"-7", time.Now()) || !d.first(long+"-7x", time.Now()) || !d.first(long[:59_999]+"-7", time.Now()) {
		t.Error("the window no longer tells IDs apart by their whole value")
	}
}
