package mapping

import (
	"errors"
	"strings"
)

// Amazon's click tokens: the schema's arefMeasurementTokens is
// "<token>.<unix_timestamp_ms>" pairs joined by '|', the token 10
// alphanumerics and the time 13 digits (epoch milliseconds).
const (
	arefTokenLength = 10
	arefTimeLength  = 13
	// maxArefPairs bounds the pairs an event carries.
	maxArefPairs = 10
)

// validArefPair reports whether p is <10 alphanumerics>.<13 digits>.
func validArefPair(p string) bool {
	if len(p) != arefTokenLength+1+arefTimeLength || p[arefTokenLength] != '.' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case i == arefTokenLength:
		case i < arefTokenLength && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'):
		case i > arefTokenLength && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// filterArefTokens keeps the well-formed pairs of s, at most maxArefPairs
// (the last ones), and counts the others.
func filterArefTokens(s string) (kept string, dropped int) {
	var pairs []string
	for _, p := range strings.Split(s, "|") {
		p = strings.TrimSpace(p)
		if validArefPair(p) {
			pairs = append(pairs, p)
		} else if p != "" {
			dropped++
		}
	}
	if len(pairs) > maxArefPairs {
		pairs = pairs[len(pairs)-maxArefPairs:]
	}
	return strings.Join(pairs, "|"), dropped
}

// parseArefTokens checks a literal arefMeasurementTokens value.
func parseArefTokens(s string) (string, error) {
	kept, dropped := filterArefTokens(s)
	if dropped > 0 || kept == "" {
		return "", errors.New("not <10 letters or digits>.<13-digit Unix milliseconds> pairs joined by '|'")
	}
	return kept, nil
}
