package forward

import (
	"testing"
	"time"
	"unsafe"
)

// An ID read from a request body is a substring of it: the dedupe window
// keeps a copy of the ID, not the body (up to 64 KiB a request) behind it.
func TestTheDedupeWindowKeepsTheIDNotTheBodyItCameFrom(t *testing.T) {
	d := newDedupe(time.Minute, 10)
	body := []byte(`{"order":{"id":"ORD-1"},"note":"` + string(make([]byte, 64<<10)) + `"}`)
	id := unsafe.String(&body[16], 5) // ORD-1, pointing into body
	if id != "ORD-1" {
		t.Fatalf("test setup: id %q", id)
	}
	if !d.first(id, time.Now()) {
		t.Fatal("a new ID was taken for a duplicate")
	}
	start, end := uintptr(unsafe.Pointer(&body[0])), uintptr(unsafe.Pointer(&body[len(body)-1]))
	for kept := range d.seen {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(kept))); p >= start && p <= end {
			t.Errorf("the window keeps %q inside the %d-byte body it was read from", kept, len(body))
		}
	}
	if d.first("ORD-1", time.Now()) {
		t.Error("the copied ID no longer dedupes")
	}
}
