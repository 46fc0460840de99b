package normalize

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// phone normalises a phone number to E.164 without the '+', by the rule documented on
// Value: through fastPhone (phone_fast.go) when it can read the number, else phoneSlow.
func phone(raw, country string) (string, error) {
	s := pyStrip(raw)
	if s == "" {
		return "", ErrEmpty
	}
	if num, ok := fastPhone(s, country); ok {
		return num.e164()
	}
	return phoneSlow(s, country)
}

// phoneSlow normalises s, stripped and not empty, with phonenumbers.Parse: the
// definition the fast path is held to.
func phoneSlow(s, country string) (string, error) {
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "＋") {
		return formatPossible(parseInternational(s))
	}
	if strings.HasPrefix(s, "00") {
		return formatPossible(parseInternational("+" + s[2:]))
	}
	cc := phonenumbers.GetCountryCodeForRegion(country)
	if cc == 0 {
		return formatPossible(parseInternational("+" + s))
	}
	return formatPossible(chooseReading(s, country, int32(cc)))
}

// chooseReading picks between the international and the national reading of a number
// written without '+', for a country with calling code cc.
func chooseReading(s, country string, cc int32) *phonenumbers.PhoneNumber {
	var intl *phonenumbers.PhoneNumber
	skipped := !mayStartWithCode(s, cc)
	if !skipped {
		intl = parseInternational("+" + s)
	}
	nat := parseNational(s, country)
	intlOK := intl != nil && intl.GetCountryCode() == cc
	switch {
	case intlOK && nat != nil:
		return betterReading(intl, nat)
	case intlOK:
		return intl
	case nat != nil:
		return nat
	case skipped:
		return parseInternational("+" + s)
	}
	return intl
}

// mayStartWithCode reports whether the international reading of s can have the calling
// code cc. It only says no, saving a parse, for plain ASCII numbers without letters
// whose digits do not start with cc.
func mayStartWithCode(s string, cc int32) bool {
	code := strconv.Itoa(int(cc))
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf || isASCIILetter(rune(c)):
			return true
		case isASCIIDigit(rune(c)) && n < len(code):
			if c != code[n] {
				return false
			}
			n++
		}
	}
	return true
}

// betterReading picks between two possible readings of a number: the same number, else
// the only valid one, else the international one.
func betterReading(intl, nat *phonenumbers.PhoneNumber) *phonenumbers.PhoneNumber {
	if intl.GetCountryCode() == nat.GetCountryCode() &&
		intl.GetNationalNumber() == nat.GetNationalNumber() &&
		intl.GetItalianLeadingZero() == nat.GetItalianLeadingZero() &&
		intl.GetNumberOfLeadingZeros() == nat.GetNumberOfLeadingZeros() {
		return intl
	}
	if phonenumbers.IsValidNumber(nat) && !phonenumbers.IsValidNumber(intl) {
		return nat
	}
	return intl
}

// parseInternational parses s, which starts with a plus sign, as the uploader does, and
// returns the number if it is a possible one, else nil.
func parseInternational(s string) *phonenumbers.PhoneNumber {
	return parsePossible(s, "")
}

// parseNational parses s as a number of the country and returns it if it is a possible
// number, else nil.
func parseNational(s, country string) *phonenumbers.PhoneNumber {
	return parsePossible(s, country)
}

func parsePossible(s, region string) *phonenumbers.PhoneNumber {
	num, err := phonenumbers.Parse(trimUnwantedEnd(s), region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return nil
	}
	return num
}

// trimUnwantedEnd removes the trailing runes that are neither letters, numbers nor '#',
// as libphonenumber's extractPossibleNumber means to do: the Go port's pattern for it
// (Java's "[[\P{N}&&\P{L}]&&[^#]]+$") means something else to Go's regexp and never
// matches, so "2065550100+" would otherwise fail where Python's phonenumbers parses it.
func trimUnwantedEnd(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool {
		return r != '#' && !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}

// formatPossible writes num in E.164 without the '+'; nil is ErrInvalidPhone.
func formatPossible(num *phonenumbers.PhoneNumber) (string, error) {
	if num == nil {
		return "", ErrInvalidPhone
	}
	return strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+"), nil
}
