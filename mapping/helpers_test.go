package mapping

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

func referenceSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// replacerFunc is a Replacer made of a function.
type replacerFunc func(string) string

func (f replacerFunc) ReplaceAll(input, _ string) string { return f(input) }

// IsHashedKeyType reports whether values of the match key type are hashed.
func IsHashedKeyType(t string) bool { return amazon.IsHashedKeyType(t) }
