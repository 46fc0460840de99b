package mapping

import (
	"net/netip"
	"strings"

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

// parts gives the event's parts, allocating them on first use.
func (ev *evaluation) parts() *eventParts {
	if ev.allocated == nil {
		ev.allocated = new(eventParts)
	}
	return ev.allocated
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
