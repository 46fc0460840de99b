package normalize

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// refCase is one normalisation with its expected outcome: want when reason is "",
// else a rejection with that Reason label.
type refCase struct {
	keyType, country, raw, want, reason string
}

func runCases(t *testing.T, cases []refCase) {
	t.Helper()
	for _, c := range cases {
		got, err := Value(c.keyType, c.raw, c.country)
		if c.reason == "" {
			if err != nil || got != c.want {
				t.Errorf("Value(%s, %q, %q) = %q, %v; want %q", c.keyType, c.raw, c.country, got, err, c.want)
			}
			continue
		}
		if err == nil || got != "" || Reason(err) != c.reason {
			t.Errorf("Value(%s, %q, %q) = %q, %v (%s); want rejection %s", c.keyType, c.raw, c.country, got, err, Reason(err), c.reason)
		}
	}
}

func TestUnsupportedKey(t *testing.T) {
	for _, k := range []string{"", "ZIP", "email", "IP_ADDRESS", "MAID"} {
		_, err := Value(k, "x@y.z", "US")
		if !errors.Is(err, ErrUnsupportedKey) || Reason(err) != ReasonUnsupportedKey {
			t.Errorf("Value(%q) error = %v; want ErrUnsupportedKey", k, err)
		}
	}
}

func TestCountryCase(t *testing.T) {
	for _, c := range []refCase{
		{KeyPostal, "ca", "K1A 0B1", "K1A0B1", ""},
		{KeyState, "us", "California", "ca", ""},
		{KeyAddress, "gB", "Flat 3, 221B Baker Street", "flat3221bbakerst", ""},
	} {
		if got, err := Value(c.keyType, c.raw, c.country); err != nil || got != c.want {
			t.Errorf("Value(%s, %q, %q) = %q, %v; want %q", c.keyType, c.raw, c.country, got, err, c.want)
		}
	}
}

func TestReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrEmpty, ReasonEmpty},
		{ErrInvalidEmail, ReasonInvalidEmail},
		{ErrInvalidPhone, ReasonInvalidPhone},
		{ErrInvalidPostal, ReasonInvalidPostal},
		{ErrUnsupportedKey, ReasonUnsupportedKey},
		{fmt.Errorf("email: %w", ErrInvalidEmail), ReasonInvalidEmail},
		{errors.New("boom"), ReasonOther},
	} {
		if got := Reason(c.err); got != c.want {
			t.Errorf("Reason(%v) = %q; want %q", c.err, got, c.want)
		}
	}
}

// TestErrorsHideValue checks that no rejection message repeats the value.
func TestErrorsHideValue(t *testing.T) {
	all := [][]refCase{emailCases, nameCases, stateCases, postalCases, addressCases, phoneCases}
	for _, cases := range all {
		for _, c := range cases {
			_, err := Value(c.keyType, c.raw, c.country)
			raw := strings.TrimSpace(c.raw)
			if err != nil && len(raw) >= 4 && strings.Contains(err.Error(), raw) {
				t.Errorf("error %q contains the value", err)
			}
		}
	}
}
