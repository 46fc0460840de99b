package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"unsafe"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// eventParts are what an event points to, allocated together once per
// event instead of one by one.
type eventParts struct {
	value         float64
	units         int64
	consent       amazon.Consent
	geo           amazon.GeoConsent
	amazonConsent amazon.AmazonConsent
	device        amazon.DeviceInfo
	processing    amazon.DataProcessingOptions
}

// parts gives the event's parts, allocating them on first use (or taking
// them from a recycling request's arena).
func (ev *evaluation) parts() *eventParts {
	if ev.allocated == nil {
		if a := ev.arena; a != nil {
			a.parts = eventParts{}
			ev.allocated = &a.parts
		} else {
			ev.allocated = new(eventParts)
		}
	}
	return ev.allocated
}

// eventArena is the memory a recycling Request (see Request.Recycle) lends
// to the event each Evaluate builds: its parts, its match keys and their
// hashes. The next Evaluate on the same Request reuses it.
type eventArena struct {
	parts  eventParts
	keys   []amazon.MatchKey
	values []string
	hashes []byte
}

// clear drops what the arena points to, keeping its memory.
func (a *eventArena) clear() {
	a.parts = eventParts{}
	clear(a.keys[:cap(a.keys)])
	clear(a.values[:cap(a.values)])
	clear(a.hashes[:cap(a.hashes)]) // the last shopper's digests
	a.keys, a.values, a.hashes = a.keys[:0], a.values[:0], a.hashes[:0]
}

// keySlices gives the arrays an event's n match keys and their values are
// built in: new ones, or a recycling request's.
func (ev *evaluation) keySlices(n int) ([]amazon.MatchKey, []string) {
	a := ev.arena
	if a == nil {
		return make([]amazon.MatchKey, 0, n), make([]string, n)
	}
	if cap(a.keys) < n {
		a.keys, a.values = make([]amazon.MatchKey, 0, n), make([]string, n)
	}
	clear(a.values[:n])
	return a.keys[:0], a.values[:n]
}

// lendHashes starts the event's digests in a recycling request's hash
// buffer; keepHashes hands the buffer back, grown if it had to be.
func (ev *evaluation) lendHashes() {
	if ev.arena != nil {
		ev.hashes.buf = ev.arena.hashes[:0]
	}
}

func (ev *evaluation) keepHashes() {
	if ev.arena != nil {
		ev.arena.hashes = ev.hashes.buf[:0]
	}
}

// digests hands out the hex SHA-256 digests of one event's match keys
// from one buffer, allocated for all of them at the first digest.
type digests struct {
	buf  []byte
	room int // how many digests the buffer is made for
}

const hexDigestLen = sha256.Size * 2

// of is the lowercase hex SHA-256 of s. The text lives in the buffer,
// which is only ever appended to, so it does not change.
func (d *digests) of(s []byte) string {
	if cap(d.buf)-len(d.buf) < hexDigestLen {
		d.buf = make([]byte, 0, hexDigestLen*max(d.room, 1))
	}
	sum := sha256.Sum256(s)
	start := len(d.buf)
	d.buf = hex.AppendEncode(d.buf, sum[:])
	return unsafe.String(&d.buf[start], hexDigestLen)
}

// canonicalIP gives the IP address s in its canonical form (an IPv4
// address mapped into IPv6 unmapped), s itself when it already is.
func canonicalIP(s string) (string, bool) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	var buf [64]byte
	text := ip.Unmap().AppendTo(buf[:0])
	if string(text) == s {
		return s, true
	}
	return string(text), true
}

// upperASCII writes s in upper case into buf and returns it; ok is false
// when s does not fit or is not all ASCII (strings.ToUpper's rules apply).
func upperASCII(buf []byte, s string) (upper []byte, ok bool) {
	if len(s) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, false
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(s)], true
}

// enumIndex finds an Enum's values by a value's upper case without
// making the upper-case string: it maps each value to itself.
type enumIndex struct {
	set    amazon.Enum
	values map[string]string
}

func newEnumIndex(set amazon.Enum) enumIndex {
	values := make(map[string]string, len(set.Values()))
	for _, v := range set.Values() {
		values[v] = v
	}
	return enumIndex{set: set, values: values}
}

// upper returns the set's value equal to strings.ToUpper(s), if any.
func (x enumIndex) upper(s string) (string, bool) {
	var buf [32]byte
	if up, ok := upperASCII(buf[:], s); ok {
		v, found := x.values[string(up)]
		return v, found
	}
	up := strings.ToUpper(s)
	return up, x.set.Has(up)
}

// The enums an event's fields are checked against.
var (
	conversionTypes = newEnumIndex(amazon.ConversionTypes)
	eventSources    = newEnumIndex(amazon.EventSources)
	countryCodes    = newEnumIndex(amazon.CountryCodes)
	currencyCodes   = newEnumIndex(amazon.CurrencyCodes)
)
