package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/normalize"
)

// Why a raw-typed match key is refused; the labels are fixed (metrics).
var (
	errEmptyKey  = &KeyError{Reason: "missing", msg: "empty"}
	errNotIP     = &KeyError{Reason: "invalid_ip", msg: "not an IP address"}
	errTooLongID = &KeyError{Reason: "too_long", msg: "longer than 100 characters"}
)

// KeyError says why a match key value is refused, with a short fixed
// label; it never quotes the value.
type KeyError struct {
	// Reason is the label: missing, invalid_ip, too_long, or one of
	// normalize's (invalid_email, invalid_phone, invalid_postal, empty, …).
	Reason string
	msg    string
}

// Error says what is wrong, without the value.
func (e *KeyError) Error() string { return e.msg }

// MatchKeyValue turns a raw value into what Amazon receives for the type,
// for a customer of country (ISO alpha-2; "" for the generic rules): for
// PII types the SHA-256 lowercase hex of the value normalized by Amazon's
// rules (package normalize); a value that already is 64 hex characters is
// taken as hashed by the shop and passed through, lowercased. Raw types are
// sent trimmed, checked. A value Amazon's rules reject is an error (a
// *KeyError), never the hash of "".
func MatchKeyValue(keyType, raw, country string) (string, error) {
	_, sent, err := matchKey(keyType, raw, country, false)
	return sent, err
}

// matchKey is MatchKeyValue that, when keep is set, also returns the
// normalized value of a hashed type ("" for a pre-hashed or raw one). The
// normalized value is made in a buffer on the stack and only hashed, so it
// costs no allocation unless it is kept.
func matchKey(keyType, raw, country string, keep bool) (normalized, sent string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", errEmptyKey
	}
	if amazon.IsHashedKeyType(keyType) {
		if isSHA256Hex(raw) {
			return "", strings.ToLower(raw), nil
		}
		var room [128]byte
		n, err := normalize.AppendValue(room[:0], keyType, raw, country)
		if err != nil {
			return "", "", &KeyError{Reason: normalize.Reason(err), msg: strings.TrimPrefix(err.Error(), "normalize: ")}
		}
		if keep {
			normalized = string(n)
		}
		sum := sha256.Sum256(n)
		return normalized, hex.EncodeToString(sum[:]), nil
	}
	switch keyType {
	case "FIP":
		ip, ok := canonicalIP(raw)
		if !ok {
			return "", "", errNotIP
		}
		return "", ip, nil
	case "MATCH_ID":
		if utf8.RuneCountInString(raw) > 100 {
			return "", "", errTooLongID
		}
	}
	return "", raw, nil
}

// keyReason is the label of a match key error.
func keyReason(err error) string {
	var ke *KeyError
	if errors.As(err, &ke) {
		return ke.Reason
	}
	return "other"
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}
