package mapping

import (
	crand "crypto/rand"
	"math/rand/v2"
	"sync"

	"github.com/google/uuid"
)

// generators hands out ChaCha8 generators, each seeded from crypto/rand:
// a random (version 4) UUID then costs a few nanoseconds instead of a read
// from the operating system per event, and stays unpredictable (ChaCha8 is
// a cryptographically strong generator), so an outsider cannot guess the
// IDs of other shoppers' events.
var generators = sync.Pool{New: func() any {
	var seed [32]byte
	crand.Read(seed[:]) // never fails on supported platforms (crypto/rand.Read's contract)
	return rand.NewChaCha8(seed)
}}

// NewEventID returns a fresh, unique event ID: a random UUID.
func NewEventID() string {
	g := generators.Get().(*rand.ChaCha8)
	var id uuid.UUID
	g.Read(id[:])
	generators.Put(g)
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id.String()
}
