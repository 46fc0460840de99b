package normalize

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reproduces the parts of Python 3's string semantics that the reference
// normalisers rely on: str.lower, str.upper, str.strip, str.isnumeric and the Unicode
// classes \w, \s and \d of the re module. Checked code point by code point against
// CPython 3.11; the only differences left are characters that Unicode 15.0 (Go)
// assigned and Unicode 14.0 (Python 3.11) did not.

const (
	capitalSigma    = 'Σ'
	smallSigma      = 'σ'
	finalSigma      = 'ς'
	capitalIWithDot = 'İ'
)

// isPyWord reports whether Python's re matches r with \w (str.isalnum() or '_').
func isPyWord(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isPySpace reports whether Python's re matches r with \s (str.isspace()); unlike Go's
// unicode.IsSpace it includes the separators U+001C..U+001F.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || 0x1C <= r && r <= 0x1F
}

// isPyDecimal reports whether Python's re matches r with \d (str.isdecimal()).
func isPyDecimal(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.IsDigit(r)
}

// isPyNumericRune reports whether str.isnumeric() holds for the single rune r.
func isPyNumericRune(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	if unicode.IsNumber(r) {
		return true
	}
	i := sort.Search(len(numericLetters), func(i int) bool { return numericLetters[i] >= r })
	return i < len(numericLetters) && numericLetters[i] == r
}

// isPyNumeric reports whether Python's s.isnumeric() holds: s is not empty and all of
// its runes are numeric.
func isPyNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isPyNumericRune(r) {
			return false
		}
	}
	return true
}

// pyStrip removes leading and trailing Python whitespace, like str.strip().
func pyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// pyUpper returns s upper-cased like Python's str.upper(): full case mappings, so "ß"
// becomes "SS" and "ﬁ" becomes "FI".
func pyUpper(s string) string {
	if isASCII(s) {
		return asciiUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		if sp, ok := upperSpecial[r]; ok {
			b.WriteString(sp)
			continue
		}
		b.WriteRune(upperRune(r))
	}
	return b.String()
}

// asciiUpper upper-cases an ASCII string, allocating only when something changes.
func asciiUpper(s string) string {
	i := 0
	for i < len(s) && !('a' <= s[i] && s[i] <= 'z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		b[i] = toUpperASCII(b[i])
	}
	return string(b)
}

// asciiLower lower-cases an ASCII string, allocating only when something changes.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// pyLower returns s lower-cased like Python's str.lower(): "İ" becomes "i" followed by
// U+0307, and a capital sigma at the end of a word becomes "ς" (the Final_Sigma rule).
func pyLower(s string) string {
	if isASCII(s) {
		return asciiLower(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i, r := range s {
		switch r {
		case capitalIWithDot:
			b.WriteString("i\u0307")
		case capitalSigma:
			b.WriteRune(lowerSigma(s, i))
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// lowerRune is Python's str.lower() of a single rune when the result is one rune, as it
// is for all runes but 'İ'. A lone capital sigma becomes 'σ'.
func lowerRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

// upperRune is Python's str.upper() of r for runes without a special (multi-rune)
// upper case, see upperSpecial.
func upperRune(r rune) rune {
	if r < utf8.RuneSelf {
		return rune(toUpperASCII(byte(r)))
	}
	return unicode.ToUpper(r)
}

// lowerSigma returns the lower case of the capital sigma at byte offset i of s: 'ς' when
// a cased letter precedes it and none follows it (skipping case-ignorable runes either
// way), else 'σ'.
func lowerSigma(s string, i int) rune {
	before := s[:i]
	for len(before) > 0 {
		r, n := utf8.DecodeLastRuneInString(before)
		if !isCaseIgnorable(r) {
			if !isCased(r) {
				return smallSigma
			}
			break
		}
		before = before[:len(before)-n]
	}
	if len(before) == 0 {
		return smallSigma
	}
	for _, r := range s[i+utf8.RuneLen(capitalSigma):] {
		if !isCaseIgnorable(r) {
			if isCased(r) {
				return smallSigma
			}
			break
		}
	}
	return finalSigma
}

// isCased reports Unicode's Cased property (for runes that are not case-ignorable).
func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// caseIgnorablePunct are the runes with Word_Break MidLetter, MidNumLet or Single_Quote,
// which are Case_Ignorable besides the categories Mn, Me, Cf, Lm and Sk.
const caseIgnorablePunct = "'.:·\u0387\u055F\u05F4\u2018\u2019\u2024\u2027\uFE13\uFE52\uFE55\uFF07\uFF0E\uFF1A"

// isCaseIgnorable reports Unicode's Case_Ignorable property.
func isCaseIgnorable(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) ||
		strings.ContainsRune(caseIgnorablePunct, r)
}
