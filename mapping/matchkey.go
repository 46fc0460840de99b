package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// hashedKeyTypes are the match key types Amazon wants normalized and SHA-256 hashed.
var hashedKeyTypes = map[string]func(string) string{
	"EMAIL":      NormalizeEmail,
	"PHONE":      NormalizePhone,
	"FIRST_NAME": NormalizeName,
	"LAST_NAME":  NormalizeName,
	"ADDRESS":    NormalizeName,
	"CITY":       NormalizeName,
	"STATE":      NormalizeName,
	"POSTAL":     NormalizePostal,
}

// IsHashedKeyType reports whether values of the match key type are hashed.
func IsHashedKeyType(t string) bool {
	_, ok := hashedKeyTypes[t]
	return ok
}

// MatchKeyValue turns a raw value into what Amazon receives for the type:
// for PII types the SHA-256 lowercase hex of the normalized value (a value
// that already is 64 hex characters is passed through, lowercased); for raw
// types the trimmed value, checked. The error never quotes the value.
func MatchKeyValue(keyType, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("empty")
	}
	if normalize, ok := hashedKeyTypes[keyType]; ok {
		if isSHA256Hex(raw) {
			return strings.ToLower(raw), nil
		}
		n := normalize(raw)
		if n == "" {
			return "", fmt.Errorf("nothing left after normalization")
		}
		if keyType == "EMAIL" && !looksLikeEmail(n) {
			return "", fmt.Errorf("not an email address")
		}
		return sha256Hex(n), nil
	}
	switch keyType {
	case "FIP":
		ip, err := netip.ParseAddr(raw)
		if err != nil {
			return "", fmt.Errorf("not an IP address")
		}
		return ip.Unmap().String(), nil
	case "MATCH_ID":
		if utf8.RuneCountInString(raw) > 100 {
			return "", fmt.Errorf("longer than 100 characters")
		}
	}
	return raw, nil
}

// NormalizeEmail follows Amazon's schema text: trim, lowercase, keep only
// a-z, 0-9, '.', '@' and '-'. (A '+' is removed too, as the schema says.)
func NormalizeEmail(s string) string {
	return keepLowered(strings.TrimSpace(s), func(r rune) bool {
		return isLowerAlnum(r) || r == '.' || r == '@' || r == '-'
	})
}

// NormalizePhone keeps the digits only, country code included:
// "+1 (206) 555-0100" becomes "12065550100". Numbers must be given with
// their country code; a leading '+' or "00" is dropped, not added.
func NormalizePhone(s string) string {
	d := keepOnly(s, func(r rune) bool { return r >= '0' && r <= '9' })
	if strings.HasPrefix(strings.TrimSpace(s), "00") {
		d = strings.TrimPrefix(d, "00")
	}
	return d
}

// NormalizeName lowercases and keeps only a-z and 0-9 (names, address,
// city, state).
func NormalizeName(s string) string {
	return keepLowered(s, isLowerAlnum)
}

// NormalizePostal lowercases and removes whitespace.
func NormalizePostal(s string) string {
	return keepLowered(s, func(r rune) bool {
		return r != ' ' && r != '\t' && r != '\n' && r != '\r' && r != '\u00a0'
	})
}

func isLowerAlnum(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') }

// keepLowered is keepOnly(strings.ToLower(s), keep) in one pass: each rune
// is lowercased as strings.ToLower does (unicode.ToLower), then kept or not.
func keepLowered(s string, keep func(rune) bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		} else {
			r = unicode.ToLower(r)
		}
		if keep(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sha256Hex is the lowercase hex SHA-256 of s.
func sha256Hex(s string) string {
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(s), len(s))) // read only
	var out [sha256.Size * 2]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

func keepOnly(s string, keep func(rune) bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if keep(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
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

// looksLikeEmail wants one '@' with something on both sides and a dot in
// the domain.
func looksLikeEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.Contains(domain, "@") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}
