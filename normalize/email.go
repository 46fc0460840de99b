package normalize

import "unicode/utf8"

// email follows the uploader's email normaliser: lower-case (Python's str.lower), drop
// every rune that is not \w, '.', '@' or '-' (so '+', spaces and quotes go, '_' and
// non-ASCII letters and digits stay), then require what its regex
// ([\w._-]+@[\w._-]+), applied with re.match, requires: it is anchored at the start
// only, so the value must have a first '@' that is not its first rune and is followed
// by a rune other than '@'. Anything may follow ("a@b@c" passes).
func email(raw string) (string, error) {
	s := keepEmailRunes(pyLower(raw))
	if err := checkEmail(s); err != nil {
		return "", err
	}
	return s, nil
}

// checkEmail applies the regex's requirement (see email) to s, already
// lower-cased and filtered.
func checkEmail[S ~string | ~[]byte](s S) error {
	if len(s) == 0 {
		return ErrEmpty
	}
	at := 0
	for at < len(s) && s[at] != '@' {
		at++
	}
	if at == 0 || at+1 >= len(s) || s[at+1] == '@' {
		return ErrInvalidEmail
	}
	return nil
}

// isEmailRune reports whether the email normaliser keeps r.
func isEmailRune(r rune) bool {
	return r == '.' || r == '@' || r == '-' || isPyWord(r)
}

// keepEmailRunes removes the runes the email normaliser drops, allocating only when it
// removes something.
func keepEmailRunes(s string) string {
	for i, r := range s {
		if !isEmailRune(r) {
			return filterFrom(s, i, isEmailRune)
		}
	}
	return s
}

// filterFrom returns s without the runes for which keep is false, given that s[:i]
// is kept whole.
func filterFrom(s string, i int, keep func(rune) bool) string {
	b := make([]byte, i, len(s))
	copy(b, s[:i])
	for _, r := range s[i:] {
		if keep(r) {
			b = utf8.AppendRune(b, r)
		}
	}
	return string(b)
}
