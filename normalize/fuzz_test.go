package normalize

import (
	"strings"
	"testing"
	"unicode"
)

var (
	fuzzKeys      = []string{KeyEmail, KeyPhone, KeyFirstName, KeyLastName, KeyAddress, KeyCity, KeyState, KeyPostal}
	fuzzCountries = []string{"US", "CA", "GB", "DE", "FR", "IT", "ES", "JP", "IN", "", "NL"}
	reasons       = map[string]bool{ReasonUnsupportedKey: true, ReasonEmpty: true, ReasonInvalidEmail: true, ReasonInvalidPhone: true, ReasonInvalidPostal: true}
)

// FuzzValue checks, for any input: no panic, errors that never repeat the value and
// carry a known reason, and non-empty results made of what the reference can produce
// for the key type (checked against the reference on random and per-code-point inputs).
func FuzzValue(f *testing.F) {
	for _, cases := range [][]refCase{emailCases, nameCases, stateCases, postalCases, addressCases, phoneCases} {
		for _, c := range cases {
			f.Add(keyIndex(c.keyType), c.raw, countryIndex(c.country))
		}
	}
	f.Fuzz(func(t *testing.T, key uint8, raw string, country uint8) {
		kt := fuzzKeys[int(key)%len(fuzzKeys)]
		cc := fuzzCountries[int(country)%len(fuzzCountries)]
		got, err := Value(kt, raw, cc)
		if err != nil {
			// Value's errors are fixed values, so none can carry the input
			// (a short input may still be a word of their text: "ddre").
			if !isFixedError(err) && len(raw) >= 4 && strings.Contains(err.Error(), raw) {
				t.Fatalf("error %q contains the value", err)
			}
			if !reasons[Reason(err)] || got != "" {
				t.Fatalf("Value(%s, %q, %s) = %q, %v (reason %q)", kt, raw, cc, got, err, Reason(err))
			}
			return
		}
		if got == "" || !resultShapeOK(kt, got) {
			t.Fatalf("Value(%s, %q, %s) = %q: not a possible result", kt, raw, cc, got)
		}
	})
}

func isFixedError(err error) bool {
	for _, fixed := range []error{ErrUnsupportedKey, ErrEmpty, ErrInvalidEmail, ErrInvalidPhone, ErrInvalidPostal} {
		if err == fixed {
			return true
		}
	}
	return false
}

func keyIndex(k string) uint8 {
	for i, v := range fuzzKeys {
		if v == k {
			return uint8(i)
		}
	}
	return 0
}

func countryIndex(c string) uint8 {
	for i, v := range fuzzCountries {
		if v == c {
			return uint8(i)
		}
	}
	return 9
}

// resultShapeOK reports whether s is made of the runes the reference can output for the
// key type: [a-z0-9] for names and cities, [a-z] for states, digits for phones, ASCII
// letters and Unicode decimal digits for postal codes (CA and GB keep case, IN keeps
// any \d), no delimiter or ASCII capital for addresses, and an '@' for emails.
func resultShapeOK(kt, s string) bool {
	switch kt {
	case KeyFirstName, KeyLastName, KeyCity:
		return all(s, func(r rune) bool { return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' })
	case KeyState:
		return all(s, func(r rune) bool { return 'a' <= r && r <= 'z' })
	case KeyPhone:
		return all(s, isASCIIDigit)
	case KeyPostal:
		return all(s, func(r rune) bool { return isASCIILetter(r) || isPyDecimal(r) })
	case KeyAddress:
		return all(s, func(r rune) bool { return !isAddressDelimiter(r) && !('A' <= r && r <= 'Z') })
	case KeyEmail:
		return strings.Contains(s, "@") && !strings.ContainsFunc(s, unicode.IsSpace)
	}
	return false
}

func all(s string, ok func(rune) bool) bool {
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}
