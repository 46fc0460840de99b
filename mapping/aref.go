package mapping

import (
	"errors"
	"strconv"
	"strings"
	"time"
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

// MaxClickTokens is how many click token pairs the click_token cookie
// keeps: the newest, one per token.
const MaxClickTokens = 5

// clockSkew is how far in the future a click's time may be (a client's
// clock) and still count.
const clockSkew = time.Minute

// clickInWindow reports whether a pair's click is at most maxAge old (0:
// no limit) and not in the future.
func clickInWindow(pair string, now time.Time, maxAge time.Duration) bool {
	ms, err := strconv.ParseInt(pair[arefTokenLength+1:], 10, 64)
	if err != nil {
		return false
	}
	at := time.UnixMilli(ms)
	return !at.After(now.Add(clockSkew)) && (maxAge <= 0 || !at.Before(now.Add(-maxAge)))
}

// MergeClickTokens adds the aref values of a landing request to the pairs
// a click_token cookie holds and returns the cookie's new value: each
// value is a token (10 letters or digits; the click's time, now, is added)
// or already a <token>.<unix_ms> pair. A token seen again keeps its newest
// pair; at most MaxClickTokens pairs are kept, the newest. Values that are
// neither, or whose click is older than maxAge (0: no limit) or in the
// future, are counted as malformed and left out; the old value's such
// pairs are left out too.
func MergeClickTokens(old string, arefs []string, now time.Time, maxAge time.Duration) (value string, added, malformed int) {
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	var pairs []string
	for _, p := range strings.Split(old, "|") {
		if validArefPair(p) && clickInWindow(p, now, maxAge) {
			pairs = append(pairs, p)
		}
	}
	for _, a := range arefs {
		a = strings.TrimSpace(a)
		pair := a
		if !validArefPair(pair) {
			pair = a + "." + ms
		}
		if !validArefPair(pair) || !clickInWindow(pair, now, maxAge) {
			malformed++
			continue
		}
		pairs = withoutToken(pairs, pair[:arefTokenLength])
		pairs = append(pairs, pair)
		added++
	}
	if len(pairs) > MaxClickTokens {
		pairs = pairs[len(pairs)-MaxClickTokens:]
	}
	return strings.Join(pairs, "|"), added, malformed
}

func withoutToken(pairs []string, token string) []string {
	out := pairs[:0]
	for _, p := range pairs {
		if p[:arefTokenLength] != token {
			out = append(out, p)
		}
	}
	return out
}

// withinWindow keeps the pairs whose click is at most maxAge old and not
// in the future, and counts the others.
func withinWindow(pairs string, now time.Time, maxAge time.Duration) (kept string, stale int) {
	if pairs == "" {
		return "", 0
	}
	var out []string
	for _, p := range strings.Split(pairs, "|") {
		if clickInWindow(p, now, maxAge) {
			out = append(out, p)
		} else {
			stale++
		}
	}
	return strings.Join(out, "|"), stale
}
