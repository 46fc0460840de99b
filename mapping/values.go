package mapping

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// raw gives a JSON number's text as written and any other value's string.
func raw(v gjson.Result) string {
	if v.Type == gjson.Number && v.Raw != "" {
		return v.Raw
	}
	return strings.TrimSpace(v.String())
}

const digits = "0123456789"

// parseTime reads RFC 3339 text (with or without fractions or zone) or Unix
// seconds or milliseconds.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if unsigned := strings.TrimLeft(s, "+-"); unsigned != "" && len(s)-len(unsigned) <= 1 && strings.Trim(unsigned, digits) == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, errors.New("a Unix timestamp out of range")
		}
		if n > 1e11 { // milliseconds
			return time.UnixMilli(n), nil
		}
		return time.Unix(n, 0), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an ISO-8601 / RFC 3339 time or Unix timestamp")
}

// parseValue reads a number or numeric string and rounds it to two decimals.
func parseValue(s string) (float64, error) { return roundValue(parseFloat(s)) }

// roundValue rounds a value read as a number to two decimals.
func roundValue(f float64, err error) (float64, error) {
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errNotANumber
	}
	if math.Abs(f) >= amazon.MaxValue {
		return 0, errValueTooLarge
	}
	return math.Round(f*100) / 100, nil
}

// parseUnits reads a whole, non-negative number (3, "3" or 3.0).
func parseUnits(s string) (int64, error) { return wholeUnits(parseFloat(s)) }

// wholeUnits checks that units read as a number are whole and not negative.
func wholeUnits(f float64, err error) (int64, error) {
	if err != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return 0, errNotWholeUnits
	}
	return int64(f), nil
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }

// float reads v as parseFloat(raw(v)) does. A JSON number's Num is what
// strconv.ParseFloat makes of its text (gjson reads it so, and a sum is
// exact), so its text is not made or read again.
func float(v gjson.Result) (float64, error) {
	if v.Type == gjson.Number {
		return v.Num, nil
	}
	return parseFloat(raw(v))
}

func parseIP(s string) (string, error) {
	ip, ok := canonicalIP(strings.TrimSpace(s))
	if !ok {
		return "", errNotIPAddress
	}
	return ip, nil
}

// customValue checks INTEGER and TIMESTAMP values and reduces STRING values
// to the letters, digits and underscores Amazon accepts. A value that does
// not fit is left out of the event, not the event.
func customValue(dataType, s string) (string, error) {
	switch dataType {
	case "INTEGER":
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return "", errNotInteger
		}
		if n < 0 {
			return "", errNegativeInteger
		}
		return strconv.FormatInt(n, 10), nil
	case "TIMESTAMP":
		t, err := parseTime(s)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(t.Unix(), 10), nil
	}
	out := strings.Trim(underscoreOthers(s), "_")
	if out == "" {
		return "", errNoLetters
	}
	if len(out) > MaxCustomValueBytes {
		return "", errCustomTooLong
	}
	return out, nil
}

// MaxCustomValueBytes is the longest custom STRING value sent. Amazon's
// schema sets no limit; a brand, product or category is a few dozen
// bytes, and a longer value (one a visitor chose) is left out, counted
// (too_long), rather than kept in the spool, the dead letter and the logs.
const MaxCustomValueBytes = 256

// customReason is the metric label of a custom value that does not fit.
func customReason(err error) string {
	switch err {
	case errNotInteger:
		return "not_integer"
	case errNegativeInteger:
		return "negative_integer"
	case errNoLetters:
		return "no_letters_or_digits"
	case errCustomTooLong:
		return "too_long"
	}
	return "not_a_time"
}

// underscoreOthers replaces each run of characters other than letters,
// digits and '_' by one '_'; a value without any is given back as is.
func underscoreOthers(s string) string {
	if strings.IndexFunc(s, isNotWordRune) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prevUnderscore := false
	for _, r := range s {
		if !isNotWordRune(r) {
			b.WriteRune(r)
			prevUnderscore = r == '_'
		} else if !prevUnderscore {
			b.WriteByte('_')
			prevUnderscore = true
		}
	}
	return b.String()
}

func isNotWordRune(r rune) bool {
	return !((r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_')
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Why a value or units_sold is refused.
var (
	errNotANumber    = errors.New("not a number")
	errValueTooLarge = errors.New("too large to send with two decimals (10^13 or more)")
	errNotWholeUnits = errors.New("not a whole number of units")
	errNotIPAddress  = errors.New("not an IP address")
)

// Why a custom attribute's value does not fit its type: Amazon takes only
// letters, digits and '_' in a value, an INTEGER is 32-bit signed (so a
// negative one, with its '-', cannot be sent), a TIMESTAMP a time.
var (
	errNotInteger      = errors.New("not a 32-bit integer")
	errNegativeInteger = errors.New("a negative integer: Amazon takes only letters, digits and _ in a value")
	errNoLetters       = errors.New("nothing left after removing characters other than letters, digits and _")
	errCustomTooLong   = fmt.Errorf("longer than %d bytes", MaxCustomValueBytes)
)
