package sandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// validator collects an event's errors, at most 20 as Amazon does.
type validator struct {
	prefix string
	now    time.Time
	maxAge time.Duration
	errs   []FieldError
}

var (
	hashedTypes    = map[string]bool{"EMAIL": true, "PHONE": true, "FIRST_NAME": true, "LAST_NAME": true, "ADDRESS": true, "CITY": true, "STATE": true, "POSTAL": true}
	sha256Hex      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	customPattern  = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	dataSetPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
)

func (v *validator) fail(code, field, format string, args ...any) {
	if len(v.errs) < 20 {
		v.errs = append(v.errs, FieldError{Code: code, FieldLocation: v.prefix + "." + field, Message: fmt.Sprintf(format, args...)})
	}
}

// eventV2 validates an EventCreate.
func (v *validator) eventV2(ev map[string]any) {
	if d, ok := v.object(ev, "eventDescription", true); ok {
		v.str(d, "eventDescription.name", "name", true)
		v.enum(d, "eventDescription.conversionType", "conversionType", amazon.ConversionTypes, true)
		v.enum(d, "eventDescription.eventSource", "eventSource", amazon.EventSources, true)
		if m, ok := v.str(d, "eventDescription.eventIngestionMethod", "eventIngestionMethod", true); ok && m != "SERVER_TO_SERVER" {
			v.fail("FIELD_VALUE_IS_INVALID", "eventDescription.eventIngestionMethod", "must be SERVER_TO_SERVER")
		}
		if n, ok := v.str(d, "eventDescription.dataSetName", "dataSetName", false); ok && !dataSetPattern.MatchString(n) {
			v.fail("FIELD_VALUE_CONTAINS_INVALID_CHARACTERS", "eventDescription.dataSetName", "must match [A-Za-z][A-Za-z0-9_-]*")
		}
	}
	v.eventTime(ev, "eventTime")
	v.common(ev, conversionTypeOf(ev, false), "customData")
	v.str(ev, "eventId", "eventId", false)
	if dpo, ok := v.object(ev, "dataProcessingOptions", false); ok {
		v.enum(dpo, "dataProcessingOptions.options", "options", amazon.DataProcessingOptionValues, false)
	}
	if di, ok := v.object(ev, "deviceInfo", false); ok {
		if ua, ok := v.str(di, "deviceInfo.userAgent", "userAgent", false); ok && utf8.RuneCountInString(ua) > 512 {
			v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", "deviceInfo.userAgent", "at most 512 characters")
		}
	}
}

// eventV1 validates a legacy v1 event.
func (v *validator) eventV1(ev map[string]any) {
	v.str(ev, "name", "name", true)
	v.enum(ev, "eventType", "eventType", amazon.ConversionTypes, true)
	v.enum(ev, "eventActionSource", "eventActionSource", amazon.EventSources, true)
	v.eventTime(ev, "timestamp")
	v.common(ev, conversionTypeOf(ev, true), "customAttributes")
	v.str(ev, "clientDedupeId", "clientDedupeId", false)
	if raw, present := ev["dataProcessingOptions"]; present {
		list, ok := raw.([]any)
		if !ok {
			v.fail("FIELD_VALUE_IS_INVALID", "dataProcessingOptions", `must be an array such as ["LIMITED_DATA_USE"]`)
		}
		for i, o := range list {
			if s, _ := o.(string); !amazon.DataProcessingOptionValues.Has(s) {
				v.fail("FIELD_VALUE_IS_INVALID", fmt.Sprintf("dataProcessingOptions[%d]", i), "must be LIMITED_DATA_USE")
			}
		}
	}
}

// common validates the fields both generations share.
func (v *validator) common(ev map[string]any, conversionType, customField string) {
	v.enum(ev, "countryCode", "countryCode", amazon.CountryCodes, true)
	v.enum(ev, "currencyCode", "currencyCode", amazon.CurrencyCodes, false)
	v.value(ev, conversionType)
	if n, ok := v.number(ev, "unitsSold", false); ok {
		if f, err := n.Float64(); err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			v.fail("FIELD_VALUE_IS_INVALID", "unitsSold", "must be a 32-bit integer")
		}
	}
	v.matchKeys(ev)
	v.customData(ev, customField)
	v.consent(ev)
}

func (v *validator) eventTime(ev map[string]any, field string) {
	s, ok := v.str(ev, field, field, true)
	if !ok {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	switch {
	case err != nil:
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be an ISO-8601 date-time such as 2026-01-02T15:04:05.000Z")
	case t.Before(v.now.Add(-v.maxAge)):
		v.fail("DATE_CANNOT_BE_IN_PAST", field, "is older than %d days", int(v.maxAge.Hours()/24))
	case t.After(v.now.Add(time.Hour)):
		v.fail("FIELD_VALUE_IS_OUT_OF_RANGE", field, "is in the future")
	}
}

func (v *validator) value(ev map[string]any, conversionType string) {
	n, ok := v.number(ev, "value", false)
	if !ok {
		return
	}
	s := n.String()
	if i := strings.IndexByte(s, '.'); i >= 0 && len(strings.TrimRight(s[i+1:], "0")) > 2 || strings.ContainsAny(s, "eE") {
		v.fail("FIELD_VALUE_IS_INVALID", "value", "at most 2 decimals")
	}
	if f, _ := n.Float64(); f < 0 && conversionType == "OFF_AMAZON_PURCHASES" {
		v.fail("FIELD_VALUE_IS_BELOW_MINIMUM_LIMIT", "value", "must not be negative for OFF_AMAZON_PURCHASES")
	}
}

func (v *validator) matchKeys(ev map[string]any) {
	raw, present := ev["matchKeys"]
	list, ok := raw.([]any)
	switch {
	case !present || raw == nil:
		v.fail("FIELD_VALUE_IS_NULL", "matchKeys", "is required")
		return
	case !ok:
		v.fail("FIELD_VALUE_IS_INVALID", "matchKeys", "must be an array")
		return
	case len(list) < 1 || len(list) > 15:
		v.fail("FIELD_SIZE_IS_OUT_OF_RANGE", "matchKeys", "holds %d keys; 1 to 15 are allowed", len(list))
	}
	for i, k := range list {
		v.matchKey(k, fmt.Sprintf("matchKeys[%d]", i))
	}
}

func (v *validator) matchKey(raw any, field string) {
	k, ok := raw.(map[string]any)
	if !ok {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be an object")
		return
	}
	typ, _ := v.enum(k, field+".type", "type", amazon.MatchKeyTypes, true)
	values, ok := k["values"].([]any)
	if !ok || len(values) != 1 {
		v.fail("FIELD_SIZE_IS_OUT_OF_RANGE", field+".values", "must hold exactly one value")
		return
	}
	value, ok := values[0].(string)
	vf := field + ".values[0]"
	switch {
	case !ok || value == "":
		v.fail("FIELD_VALUE_IS_EMPTY", vf, "must be a non-empty string")
	case hashedTypes[typ] && !sha256Hex.MatchString(value):
		v.fail("FIELD_VALUE_IS_INVALID", vf, "%s must be normalized and SHA-256 hashed (64 lowercase hex characters)", typ)
	case typ == "FIP" && !isIP(value):
		v.fail("FIELD_VALUE_IS_INVALID", vf, "FIP must be a full IPv4 or IPv6 address")
	case typ == "MATCH_ID" && utf8.RuneCountInString(value) > 100:
		v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", vf, "MATCH_ID is at most 100 characters")
	}
}

func (v *validator) customData(ev map[string]any, field string) {
	raw, present := ev[field]
	if !present {
		return
	}
	list, ok := raw.([]any)
	if !ok {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be an array")
		return
	}
	if len(list) > 13 {
		v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", field, "holds %d items; at most 13", len(list))
	}
	for i, item := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		c, ok := item.(map[string]any)
		if !ok {
			v.fail("FIELD_VALUE_IS_INVALID", f, "must be an object")
			continue
		}
		for _, name := range []string{"name", "value"} {
			if s, ok := v.str(c, f+"."+name, name, true); ok && !customPattern.MatchString(s) {
				v.fail("FIELD_VALUE_CONTAINS_INVALID_CHARACTERS", f+"."+name, "only letters, digits and _ are allowed")
			}
		}
		v.enum(c, f+".dataType", "dataType", amazon.CustomDataTypes, false)
	}
}

func (v *validator) consent(ev map[string]any) {
	c, ok := v.object(ev, "consent", false)
	if !ok {
		return
	}
	if geo, ok := v.object(c, "consent.geo", false); ok {
		if ip, ok := v.str(geo, "consent.geo.ipAddress", "ipAddress", true); ok && !isIP(ip) {
			v.fail("FIELD_VALUE_IS_INVALID", "consent.geo.ipAddress", "must be an IP address")
		}
	}
	if ac, ok := v.object(c, "consent.amazonConsent", false); ok {
		v.enum(ac, "consent.amazonConsent.amznUserData", "amznUserData", amazon.ConsentStatuses, true)
		v.enum(ac, "consent.amazonConsent.amznAdStorage", "amznAdStorage", amazon.ConsentStatuses, false)
	}
	v.str(c, "consent.tcf", "tcf", false)
	v.str(c, "consent.gpp", "gpp", false)
}

// object reads a nested object; a missing required one is an error.
func (v *validator) object(m map[string]any, field string, required bool) (map[string]any, bool) {
	key := field[strings.LastIndexByte(field, '.')+1:]
	raw, present := m[key]
	if !present || raw == nil {
		if required {
			v.fail("FIELD_VALUE_IS_NULL", field, "is required")
		}
		return nil, false
	}
	o, ok := raw.(map[string]any)
	if !ok {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be an object")
	}
	return o, ok
}

// str reads a string; ok is false when it is absent or not a string.
func (v *validator) str(m map[string]any, field, key string, required bool) (string, bool) {
	raw, present := m[key]
	if !present || raw == nil {
		if required {
			v.fail("FIELD_VALUE_IS_NULL", field, "is required")
		}
		return "", false
	}
	s, ok := raw.(string)
	if !ok {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be a string")
		return "", false
	}
	if s == "" && required {
		v.fail("FIELD_VALUE_IS_EMPTY", field, "must not be empty")
		return "", false
	}
	return s, true
}

func (v *validator) enum(m map[string]any, field, key string, e amazon.Enum, required bool) (string, bool) {
	s, ok := v.str(m, field, key, required)
	if ok && !e.Has(s) {
		v.fail("FIELD_VALUE_IS_INVALID", field, "%q is not an allowed value", s)
		return "", false
	}
	return s, ok
}

func (v *validator) number(m map[string]any, key string, required bool) (json.Number, bool) {
	raw, present := m[key]
	if !present || raw == nil {
		if required {
			v.fail("FIELD_VALUE_IS_NULL", key, "is required")
		}
		return "", false
	}
	n, ok := raw.(json.Number)
	if !ok {
		v.fail("FIELD_VALUE_IS_INVALID", key, "must be a number")
	}
	return n, ok
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func conversionTypeOf(ev map[string]any, v1 bool) string {
	if v1 {
		s, _ := ev["eventType"].(string)
		return s
	}
	d, _ := ev["eventDescription"].(map[string]any)
	s, _ := d["conversionType"].(string)
	return s
}

func describeV2(r *Received, ev map[string]any) {
	d, _ := ev["eventDescription"].(map[string]any)
	r.Name, _ = d["name"].(string)
	r.ConversionType, _ = d["conversionType"].(string)
	r.EventID, _ = ev["eventId"].(string)
	describeCommon(r, ev)
}

func describeV1(r *Received, ev map[string]any) {
	r.Name, _ = ev["name"].(string)
	r.ConversionType, _ = ev["eventType"].(string)
	r.EventID, _ = ev["clientDedupeId"].(string)
	describeCommon(r, ev)
}

func describeCommon(r *Received, ev map[string]any) {
	r.Currency, _ = ev["currencyCode"].(string)
	if n, ok := ev["value"].(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			r.Value = &f
		}
	}
	keys, _ := ev["matchKeys"].([]any)
	for _, k := range keys {
		if m, ok := k.(map[string]any); ok {
			t, _ := m["type"].(string)
			r.MatchKeyTypes = append(r.MatchKeyTypes, t)
		}
	}
}
