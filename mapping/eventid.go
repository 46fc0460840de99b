package mapping

import (
	crand "crypto/rand"
	"fmt"
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

// DedupeID evaluates only the dedupe ID, so it can be handed to the browser
// before the event is built. ok is false when the ID is not mapped, comes
// from the response, or has no value.
func (m *Mapping) DedupeID(r *Request) (id string, ok bool) {
	if !m.dedupeID.isSet() || m.dedupeID.readsReply() {
		return "", false
	}
	ev := evaluation{m: m, r: r}
	id = ev.eventID()
	return id, id != "" && ev.err == nil
}

// MaxEventIDBytes is the longest dedupe ID an event takes. Amazon's schema
// sets no limit; real order IDs are a few dozen bytes, and anyone can send
// a checkout, so a longer one is refused (the event is invalid, counted as
// too_long) rather than kept in the dedupe window, the spool and the logs.
const MaxEventIDBytes = 256

// eventID reads the mapped dedupe ID as the event, the response header and
// the cookie carry it alike (see SafeEventID); empty when not mapped or
// without a value, and invalid when longer than MaxEventIDBytes.
func (ev *evaluation) eventID() string {
	id := ev.text("dedupe_id", &ev.m.dedupeID, false)
	if len(id) > MaxEventIDBytes {
		ev.fail("dedupe_id", InvalidTooLong, fmt.Sprintf("longer than %d bytes", MaxEventIDBytes))
		return ""
	}
	return SafeEventID(id)
}

// SafeEventID is id as it can be sent unchanged in the event, an HTTP
// header and a cookie: bytes a cookie value cannot hold (controls, space,
// '"', ',', ';', '\\', non-ASCII) and '%' are percent-encoded, so the
// browser gets exactly the eventId Amazon gets (the Ad Tag's dedupe
// compares them). An ID of letters, digits and punctuation is unchanged.
func SafeEventID(id string) string {
	safe := true
	for i := 0; i < len(id) && safe; i++ {
		safe = cookieOctet(id[i])
	}
	if safe {
		return id
	}
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(id)+16)
	for i := 0; i < len(id); i++ {
		if c := id[i]; cookieOctet(c) {
			out = append(out, c)
		} else {
			out = append(out, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(out)
}

// cookieOctet reports whether c may stand in a cookie value as it is (RFC
// 6265's cookie-octet), and is not '%', which SafeEventID's escapes start.
func cookieOctet(c byte) bool {
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\' && c != '%'
}

// MapsDedupeID reports whether the rule maps a dedupe ID.
func (m *Mapping) MapsDedupeID() bool { return m.dedupeID.isSet() }
