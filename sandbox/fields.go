package sandbox

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// The readers below take a field path relative to the event, such as
// "consent.geo.ipAddress", and look up its last part in m. A missing or
// null required field (schema X.required) is FIELD_VALUE_IS_NULL; a value
// of another JSON type than the schema's "type" is FIELD_VALUE_IS_INVALID;
// an empty required string is FIELD_VALUE_IS_EMPTY (schema ErrorCode:
// "Update the request with the required information for this resource").
// ok is false unless a usable value is there.

func keyOf(field string) string {
	return field[strings.LastIndexByte(field, '.')+1:]
}

// lookup returns m's value for field; ok is false (and a required field
// is reported) when it is absent or null.
func (v *validator) lookup(m map[string]any, field string, required bool) (any, bool) {
	raw, present := m[keyOf(field)]
	if !present || raw == nil {
		if required {
			v.fail("FIELD_VALUE_IS_NULL", field, "is required")
		}
		return nil, false
	}
	return raw, true
}

func (v *validator) object(m map[string]any, field string, required bool) (map[string]any, bool) {
	raw, ok := v.lookup(m, field, required)
	if !ok {
		return nil, false
	}
	return v.item(raw, field)
}

// item checks that an array element (or any value) is an object.
func (v *validator) item(raw any, field string) (map[string]any, bool) {
	o, ok := raw.(map[string]any)
	if !ok {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be an object")
	}
	return o, ok
}

func (v *validator) array(m map[string]any, field string, required bool) ([]any, bool) {
	raw, ok := v.lookup(m, field, required)
	if !ok {
		return nil, false
	}
	a, ok := raw.([]any)
	if !ok {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be an array")
	}
	return a, ok
}

// str reads a string; a required one must not be empty.
func (v *validator) str(m map[string]any, field string, required bool) (string, bool) {
	raw, ok := v.lookup(m, field, required)
	if !ok {
		return "", false
	}
	s, ok := raw.(string)
	switch {
	case !ok:
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be a string")
		return "", false
	case s == "" && required:
		v.fail("FIELD_VALUE_IS_EMPTY", field, "must not be empty")
		return "", false
	}
	return s, true
}

// enum reads a string that must be one of e's values.
func (v *validator) enum(m map[string]any, field string, e amazon.Enum, required bool) (string, bool) {
	s, ok := v.str(m, field, required)
	if !ok {
		return "", false
	}
	if err := e.Check(s); err != nil {
		v.fail("FIELD_VALUE_IS_INVALID", field, "%s", err)
		return "", false
	}
	return s, true
}

// number reads an optional JSON number.
func (v *validator) number(m map[string]any, field string) (json.Number, bool) {
	raw, ok := v.lookup(m, field, false)
	if !ok {
		return "", false
	}
	n, ok := raw.(json.Number)
	if !ok {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be a number")
	}
	return n, ok
}

// rational is n exactly, whatever its notation (1.5, 15e-1, 1E3); ok is
// false for a number a double cannot hold (schema EventCreate.value
// "format": "double").
func rational(n json.Number) (*big.Rat, bool) {
	s := n.String()
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		// A double cannot hold more than ~1e308; refusing larger exponents
		// also keeps big.Rat from building a huge number.
		if exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+")); err != nil || exp < -400 || exp > 400 {
			return nil, false
		}
	}
	return new(big.Rat).SetString(s)
}

func hasAtMostTwoDecimals(r *big.Rat) bool {
	return new(big.Rat).Mul(r, big.NewRat(100, 1)).IsInt()
}

// isInt32 reports whether s is a decimal 32-bit signed integer.
func isInt32(s string) bool {
	_, err := strconv.ParseInt(s, 10, 32)
	return err == nil
}

func fitsInt32(r *big.Rat) bool {
	n := r.Num()
	return n.IsInt64() && n.Int64() >= math.MinInt32 && n.Int64() <= math.MaxInt32
}
