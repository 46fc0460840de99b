package mapping

import (
	"testing"

	"github.com/google/uuid"
)

func TestNewEventIDIsAFreshVersion4UUID(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := NewEventID()
		u, err := uuid.Parse(id)
		if err != nil {
			t.Fatalf("%q is not a UUID: %v", id, err)
		}
		if u.Version() != 4 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("%q: version %d, variant %v; want a random (version 4) UUID", id, u.Version(), u.Variant())
		}
		if seen[id] {
			t.Fatalf("%q handed out twice", id)
		}
		seen[id] = true
	}
}

func BenchmarkNewEventID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewEventID()
	}
}
