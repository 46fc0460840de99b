package normalize

import "sync"

// AppendValue appends what Value gives for raw to dst and returns the
// extended buffer; on an error dst comes back unchanged. It gives the same
// result and error as Value (FuzzAppendValueMatchesValue holds them equal),
// and for the common cases, an ASCII email address and a plainly written
// phone number, it allocates nothing when dst has room: a caller hashing
// the result keeps no string of it.
func AppendValue(dst []byte, keyType, raw, country string) ([]byte, error) {
	switch keyType {
	case KeyEmail:
		if isASCII(raw) {
			return appendASCIIEmail(dst, raw)
		}
	case KeyPhone:
		if out, ok, err := appendPlainPhone(dst, raw, upperCountry(country)); ok {
			return out, err
		}
	}
	v, err := Value(keyType, raw, country)
	if err != nil {
		return dst, err
	}
	return append(dst, v...), nil
}

// appendASCIIEmail is email for an ASCII address: lower-cased, with the
// bytes the normaliser drops left out.
func appendASCIIEmail(dst []byte, raw string) ([]byte, error) {
	start := len(dst)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if isEmailRune(rune(c)) {
			dst = append(dst, c)
		}
	}
	if err := checkEmail(dst[start:]); err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// appendPlainPhone is phone for a number the fast path reads; ok is false
// for any other, which phone's slow path then reads.
func appendPlainPhone(dst []byte, raw, country string) (out []byte, ok bool, err error) {
	s := pyStrip(raw)
	if s == "" {
		return dst, false, nil
	}
	digits := phoneDigits.Get().(*[maxPlainPhoneLen]byte)
	defer phoneDigits.Put(digits)
	num, ok := fastPhoneIn(digits, s, country)
	if !ok {
		return dst, false, nil
	}
	out, err = num.appendE164(dst)
	return out, true, err
}

// phoneDigits holds the buffers appendPlainPhone reads a number's digits
// into: the phone number patterns it runs make the compiler move a buffer
// on the stack to the heap, one allocation per number.
var phoneDigits = sync.Pool{New: func() any { return new([maxPlainPhoneLen]byte) }}
