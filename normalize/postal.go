package normalize

// postalRule is one country's rule of the uploader's ZIP normaliser: which runes to
// keep, how many of them, and the pattern the kept prefix must match.
type postalRule struct {
	keep   func(rune) bool
	length int
	valid  func(string) bool
}

var (
	postalDefault = postalRule{isASCIIDigit, 5, allRunes(isASCIIDigit, 5)}
	postalRules   = map[string]postalRule{
		// A1A 1A1.
		"CA": {isASCIIAlnum, 6, isCanadianPostcode},
		// A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA.
		"GB": {isASCIIAlnum, 7, isBritishPostcode},
		// Six digits; Python's \d, so any Unicode decimal digit counts and is kept.
		"IN": {isPyDecimal, 6, allRunes(isPyDecimal, 6)},
		// Seven ASCII digits.
		"JP": {isASCIIDigit, 7, allRunes(isASCIIDigit, 7)},
	}
)

// postal follows the uploader's ZIP normaliser: keep the runes the country's rule keeps,
// cut them to the rule's length, and require the pattern on what is left. Countries
// other than CA, GB, IN and JP (US, DE, FR, IT, ES, unknown) need five ASCII digits.
// Case is kept: "K1A 0B1" gives "K1A0B1" and "k1a 0b1" gives "k1a0b1", as in the
// uploader. Cutting comes first, so a longer value passes on its prefix ("12345-6789"
// gives "12345"), and a US ZIP of fewer than five digits fails.
func postal(raw, country string) (string, error) {
	rule, ok := postalRules[country]
	if !ok {
		rule = postalDefault
	}
	s := keepRunes(raw, rule.keep)
	if s == "" {
		return "", ErrEmpty
	}
	s = firstRunes(s, rule.length)
	if !rule.valid(s) {
		return "", ErrInvalidPostal
	}
	return s, nil
}

// keepRunes returns raw without the runes for which keep is false, allocating only when
// it removes something.
func keepRunes(raw string, keep func(rune) bool) string {
	for i, r := range raw {
		if !keep(r) {
			return filterFrom(raw, i, keep)
		}
	}
	return raw
}

// firstRunes returns the first n runes of s.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// allRunes returns a check that s is exactly n runes satisfying ok.
func allRunes(ok func(rune) bool, n int) func(string) bool {
	return func(s string) bool {
		count := 0
		for _, r := range s {
			if !ok(r) {
				return false
			}
			count++
		}
		return count == n
	}
}

func isASCIIDigit(r rune) bool { return '0' <= r && r <= '9' }

func isASCIILetter(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' }

func isASCIIAlnum(r rune) bool { return isASCIIDigit(r) || isASCIILetter(r) }

// isCanadianPostcode matches ^([A-Za-z]\d){3}$ on ASCII s.
func isCanadianPostcode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i += 2 {
		if !isASCIILetter(rune(s[i])) || !isASCIIDigit(rune(s[i+1])) {
			return false
		}
	}
	return true
}

// isBritishPostcode matches, on ASCII s,
// ^(([A-Za-z]{1,2}\d{2,3})|([A-Za-z]{1,2}\d[A-Za-z]\d))[A-Za-z]{2}$: an outward part
// of one or two letters and then two or three digits or digit-letter-digit, and two
// letters.
func isBritishPostcode(s string) bool {
	n := len(s)
	if n < 5 || !isASCIILetter(rune(s[n-1])) || !isASCIILetter(rune(s[n-2])) {
		return false
	}
	out := s[:n-2]
	letters := 0
	for letters < len(out) && letters < 2 && isASCIILetter(rune(out[letters])) {
		letters++
	}
	if letters == 0 {
		return false
	}
	// The first alternative can only use both letters when the second is a letter too,
	// so trying the longest letter run is enough; with one letter, out[1] is a digit.
	rest := out[letters:]
	return isDigits(rest, 2, 3) || len(rest) == 3 &&
		isASCIIDigit(rune(rest[0])) && isASCIILetter(rune(rest[1])) && isASCIIDigit(rune(rest[2]))
}

// isDigits reports whether s is between min and max ASCII digits long.
func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isASCIIDigit(rune(s[i])) {
			return false
		}
	}
	return true
}
