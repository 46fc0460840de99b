package sandbox

import (
	"fmt"
	"net/netip"
	"regexp"
	"unicode/utf8"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

var (
	// hashedTypes are the match-key types Amazon wants SHA-256 hashed:
	// schema EventCreate.matchKeys, "Match key value must be normalized and
	// hashed, except for MAID, RAMP_ID, MATCH_ID, REAL_ID, MERKLE_ID,
	// KANTAR_ID, and FIP." (v1: SEG trackConversion/utils.ts hashes the
	// same eight.)
	hashedTypes = map[string]bool{"EMAIL": true, "PHONE": true, "FIRST_NAME": true, "LAST_NAME": true, "ADDRESS": true, "CITY": true, "STATE": true, "POSTAL": true}
	// sha256Hex is a SHA-256 digest as lowercase hex: schema MatchKey
	// ("SHA-256") and docs/amazon.md "Match keys" [H] (64 lowercase hex
	// digits).
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// matchKeys checks the match keys: 1 to max of them (v2: schema
// EventCreate.matchKeys minItems 1, maxItems 15; v1: see eventV1), each
// of a type in types. No message ever quotes a value.
func (v *validator) matchKeys(ev map[string]any, types amazon.Enum, max int) {
	list, ok := v.array(ev, "matchKeys", true)
	if !ok {
		return
	}
	switch {
	case len(list) < 1:
		v.fail("FIELD_SIZE_IS_BELOW_MINIMUM_LIMIT", "matchKeys", "holds no match key; at least 1 is required")
	case len(list) > max:
		v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", "matchKeys", "holds %d match keys; at most %d are allowed", len(list), max)
	}
	for i, k := range list {
		v.matchKey(k, fmt.Sprintf("matchKeys[%d]", i), types)
	}
}

// matchKey checks one {type, values} (schema CreateMatchKey: both
// required, values holds exactly one string, minItems = maxItems = 1).
func (v *validator) matchKey(raw any, field string, types amazon.Enum) {
	k, ok := v.item(raw, field)
	if !ok {
		return
	}
	typ, _ := v.enum(k, field+".type", types, true)
	values, ok := v.array(k, field+".values", true)
	if !ok {
		return
	}
	if len(values) != 1 {
		v.fail("FIELD_SIZE_IS_OUT_OF_RANGE", field+".values", "holds %d values; exactly 1 is required", len(values))
		return
	}
	vf := field + ".values[0]"
	value, ok := values[0].(string)
	switch {
	case !ok:
		v.fail("FIELD_VALUE_IS_INVALID", vf, "must be a string")
	case value == "":
		v.fail("FIELD_VALUE_IS_EMPTY", vf, "must not be empty")
	default:
		v.matchKeyValue(typ, value, vf)
	}
}

// matchKeyValue checks a non-empty value against its type's rule. The
// messages name the type, never the value.
func (v *validator) matchKeyValue(typ, value, field string) {
	switch {
	case hashedTypes[typ] && !sha256Hex.MatchString(value):
		v.fail("FIELD_VALUE_IS_INVALID", field, "a %s match key must be normalized and SHA-256 hashed: 64 lowercase hex characters", typ)
	case typ == "FIP" && !isIP(value):
		// schema MatchKeyType: "FIP | Full IP address match key type.
		// Supports IPv4 and IPv6."
		v.fail("FIELD_VALUE_IS_INVALID", field, "a FIP match key must be a full IPv4 or IPv6 address")
	case typ == "MATCH_ID" && utf8.RuneCountInString(value) > maxMatchID:
		// docs/amazon.md "Match keys" [M]: a MATCH_ID is at most 100 characters.
		v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", field, "a MATCH_ID is at most %d characters", maxMatchID)
	}
}

// isIP reports whether s is a plain IPv4 or IPv6 address, with no zone (a
// zone is not part of the address).
func isIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}
