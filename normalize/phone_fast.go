package normalize

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// The fast path for PHONE (see the package comment). A plain number holds nothing
// that Parse's extension, viability, number-start and letter expressions act on, so
// for it they come down to keeping the digits; fastPhone repeats the rest of Parse on
// the digits (international prefix, calling code, national prefix and its transform
// rule, possible lengths, through the metadata's own patterns; phone_rules.go) and
// chooseReading's choice between two readings. It answers only for inputs and
// metadata it repeats Parse on, and leaves everything else to phoneSlow.

const (
	maxPlainPhoneLen = 64 // longest input the fast path takes, in bytes
	minPlainDigits   = 3  // fewest digits: shorter numbers meet Parse's special cases
	minNSNLen        = 2  // phonenumbers' MIN_LENGTH_FOR_NSN
	maxNSNLen        = 17 // phonenumbers' MAX_LENGTH_FOR_NSN
	maxCallingCode   = 3  // digits of the longest country calling code
)

// parsed is a number as Parse reads it: the country calling code and the national
// significant number, leading zeros included. A zero cc means no possible number.
type parsed struct {
	cc  int32
	nsn string
}

// e164 writes p in E.164 without the '+', or ErrInvalidPhone for no number, as
// formatPossible does.
func (p parsed) e164() (string, error) {
	var room [maxCallingCode + maxNSNLen]byte
	b, err := p.appendE164(room[:0])
	return string(b), err
}

// appendE164 is e164 appended to dst (dst unchanged on an error).
func (p parsed) appendE164(dst []byte) ([]byte, error) {
	if p.cc == 0 {
		return dst, ErrInvalidPhone
	}
	return append(strconv.AppendInt(dst, int64(p.cc), 10), p.nsn...), nil
}

// fastPhone reads s, already stripped and not empty, as phoneSlow does. It reports
// false when s is not plain or the rules it meets are not ones it repeats.
func fastPhone(s, country string) (parsed, bool) {
	var digits [maxPlainPhoneLen]byte
	return fastPhoneIn(&digits, s, country)
}

// fastPhoneIn is fastPhone with the digits written into digits: the
// number it returns may read from there.
func fastPhoneIn(digits *[maxPlainPhoneLen]byte, s, country string) (parsed, bool) {
	d, ok := plainDigits(digits, s)
	if !ok {
		return parsed{}, false
	}
	switch {
	case s[0] == '+':
		return fastInternational(d)
	case strings.HasPrefix(s, "00"):
		return fastInternational(d[2:])
	}
	cc := phonenumbers.GetCountryCodeForRegion(country)
	if cc == 0 {
		return fastInternational(d)
	}
	return fastChooseReading(s, d, country, int32(cc))
}

// plainDigits returns the ASCII digits of s when s is written plainly (see
// above): s itself when it is all digits, else a copy of them made in buf.
func plainDigits(buf *[maxPlainPhoneLen]byte, s string) (string, bool) {
	if len(s) > maxPlainPhoneLen {
		return "", false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			buf[n] = c
			n++
		case c == '+' && i == 0, isPlainSeparator(c):
		default:
			return "", false
		}
	}
	switch {
	case n < minPlainDigits:
		return "", false
	case n == len(s):
		return s, true
	}
	return string(buf[:n]), true
}

// isPlainSeparator reports whether c is one of the separators the fast path takes.
func isPlainSeparator(c byte) bool {
	switch c {
	case ' ', '-', '.', '(', ')', '/':
		return true
	}
	return false
}

// fastChooseReading is chooseReading for the digits d of s, a number of the country
// with calling code cc written without '+'.
func fastChooseReading(s, d, country string, cc int32) (parsed, bool) {
	region := rulesForRegion(country)
	if region == nil {
		return parsed{}, false
	}
	var intl parsed
	skipped := !mayStartWithCode(s, cc)
	if !skipped {
		var ok bool
		if intl, ok = fastInternational(d); !ok {
			return parsed{}, false
		}
	}
	nat, ok := fastNational(d, region)
	if !ok {
		return parsed{}, false
	}
	intlOK := intl.cc == cc
	switch {
	case intlOK && nat.cc != 0:
		return betterParsed(intl, nat), true
	case intlOK:
		return intl, true
	case nat.cc != 0:
		return nat, true
	case skipped:
		return fastInternational(d)
	}
	return intl, true
}

// betterParsed is betterReading for two possible readings.
func betterParsed(intl, nat parsed) parsed {
	if intl == nat {
		return intl
	}
	if phonenumbers.IsValidNumber(nat.phoneNumber()) && !phonenumbers.IsValidNumber(intl.phoneNumber()) {
		return nat
	}
	return intl
}

// phoneNumber builds the PhoneNumber Parse returns for p, with the leading-zero fields
// set as Parse sets them.
func (p parsed) phoneNumber() *phonenumbers.PhoneNumber {
	cc := p.cc
	national, _ := strconv.ParseUint(p.nsn, 10, 64)
	num := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &national}
	if len(p.nsn) < 2 || p.nsn[0] != '0' {
		return num
	}
	italian := true
	num.ItalianLeadingZero = &italian
	zeros := int32(1)
	for int(zeros) < len(p.nsn)-1 && p.nsn[zeros] == '0' {
		zeros++
	}
	if zeros != 1 {
		num.NumberOfLeadingZeros = &zeros
	}
	return num
}

// fastInternational is parseInternational for the digits d written after a '+'.
func fastInternational(d string) (parsed, bool) {
	if len(d) < minPlainDigits {
		return parsed{}, false
	}
	cc, n := leadingCallingCode(d)
	if cc == 0 {
		return parsed{}, true
	}
	return finishParse(cc, d[n:], nil)
}

// fastNational is parseNational for the digits d, without '+', and the region's rules.
func fastNational(d string, region *phoneRules) (parsed, bool) {
	if end, ok := region.internationalPrefixEnd(d); ok {
		rest := d[end:]
		if len(rest) <= minNSNLen {
			return parsed{}, true
		}
		cc, n := leadingCallingCode(rest)
		if cc == 0 {
			return parsed{}, true
		}
		return finishParse(cc, rest[n:], nil)
	}
	if national, ok := region.withoutOwnCallingCode(d); ok {
		return finishParse(region.cc, national, nil)
	}
	return finishParse(region.cc, d, region)
}

// leadingCallingCode returns the country calling code d starts with and its length in
// digits, or 0 when d starts with none.
func leadingCallingCode(d string) (int32, int) {
	if d == "" || d[0] == '0' {
		return 0, 0
	}
	cc := 0
	for i := 0; i < maxCallingCode && i < len(d); i++ {
		cc = cc*10 + int(d[i]-'0')
		if knownCallingCode(cc) {
			return int32(cc), i + 1
		}
	}
	return 0, 0
}

// finishParse is the end of Parse once the calling code cc is known: it strips the
// national prefix by the rules of strip (nil: those of cc) where what is left has a
// usable length, checks the length, and keeps the number if it is a possible one.
func finishParse(cc int32, national string, strip *phoneRules) (parsed, bool) {
	home := rulesForCallingCode(cc)
	if home == nil {
		return parsed{}, false
	}
	if strip == nil {
		strip = home
	}
	if len(national) < minNSNLen {
		return parsed{}, true
	}
	if stripped := strip.stripNationalPrefix(national); strip.keepsStripped(stripped) {
		national = stripped
	}
	if len(national) < minNSNLen || len(national) > maxNSNLen || !home.isPossible(national) {
		return parsed{}, true
	}
	return parsed{cc, national}, true
}
