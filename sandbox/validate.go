package sandbox

// Every rule in this package names its source in a comment:
//
//   - "schema X.y" is amazon/schema/events-openapi.json, Amazon's own
//     OpenAPI for CreateEvent, at components.schemas.X.properties.y (or
//     X.required, X.description); these are Amazon's [H] facts.
//   - `docs/amazon.md "<section>" [H]` (or [M], [L]) is a fact of that
//     section of docs/amazon.md, the repository's notes on Amazon, with
//     its confidence mark: [H] Amazon's own spec or code, [M] one solid
//     client, [L] sources disagree (that page explains the marks and
//     names each source).
//   - "SEG file" is Segment's open-source Amazon Conversions destination:
//     segmentio/action-destinations,
//     packages/destination-actions/src/destinations/amazon-conversions-api/file,
//     at commit ac4ec3b71e (the last version that called POST /events/v1)
//     unless another commit is named; f38578654b is the last version whose
//     custom attributes had a dataType.
//
// A rule with none of these sources does not belong here.

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// maxErrors is the most errors Amazon lists for one event
// (schema ErrorsIndex.errors maxItems 20).
const maxErrors = amazon.MaxErrorsPerEvent

// Limits of a v2 event.
const (
	maxMatchKeys  = amazon.MaxMatchKeys  // schema EventCreate.matchKeys maxItems
	maxCustomData = amazon.MaxCustomData // schema EventCreate.customData maxItems
	maxUserAgent  = amazon.MaxUserAgent  // schema CreateDeviceInfo.userAgent: "Max 512 characters."
	maxMatchID    = 100                  // docs/amazon.md "Match keys" [M]
	// minDataSetName and maxDataSetName bound eventDescription.dataSetName:
	// SEG index.ts at 038048ee67 (the v2 destination) checks
	// ^[A-Za-z][A-Za-z0-9_-]{4,99}$ and says "It must be between 5 and
	// 100 characters long" [M]; the schema gives the pattern only.
	minDataSetName = 5
	maxDataSetName = 100
)

// offAmazonPurchases is the conversion type whose value is money.
const offAmazonPurchases = "OFF_AMAZON_PURCHASES"

var (
	// customPattern: schema CreateCustomData.name and .value, "Only
	// letters, numbers and the underscore character are allowed."
	customPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	// dataSetPattern: schema CreateEventDescription.dataSetName pattern
	// [A-Za-z][A-Za-z0-9_-]*, anchored as SEG index.ts at 038048ee67
	// anchors it (an OpenAPI pattern is not anchored by itself, but
	// unanchored it would accept any name holding one letter).
	dataSetPattern = regexp.MustCompile(`^(?:` + amazon.DataSetNamePattern + `)$`)
	// arefPattern: schema EventCreate.arefMeasurementTokens, "Pipe-separated
	// measurement token pairs … formatted as <token>.<unix_timestamp_ms>.
	// Token is a 10-char alphanumeric string; timestamp is 13-digit epoch
	// milliseconds UTC. Multiple pairs are separated by '|'."
	arefPattern = regexp.MustCompile(`^[A-Za-z0-9]{10}\.[0-9]{13}(\|[A-Za-z0-9]{10}\.[0-9]{13})*$`)
	// dateTimePattern is RFC 3339's date-time production, which the schema
	// names with eventTime's "format": "date-time" (T and Z may be lower
	// case there; a space or a comma is not allowed).
	dateTimePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$`)
)

// validator collects one event's errors.
type validator struct {
	prefix string // e.g. events[3]
	now    time.Time
	maxAge time.Duration
	eu     bool // the advertiser is an EU one: consent is required
	errs   []FieldError
}

// fail records an error on field, a path relative to the event, in the
// shape of schema Error {code, fieldLocation, message}.
func (v *validator) fail(code, field, format string, args ...any) {
	if len(v.errs) < maxErrors {
		v.errs = append(v.errs, FieldError{Code: code, FieldLocation: v.prefix + "." + field, Message: fmt.Sprintf(format, args...)})
	}
}

// eventV2 validates an EventCreate (schema EventCreate).
func (v *validator) eventV2(ev map[string]any) {
	// schema EventCreate.required: countryCode, eventDescription, eventTime, matchKeys.
	if d, ok := v.object(ev, "eventDescription", true); ok {
		// schema CreateEventDescription.required: conversionType,
		// eventIngestionMethod, eventSource, name.
		v.str(d, "eventDescription.name", true)
		v.enum(d, "eventDescription.conversionType", amazon.ConversionTypes, true) // schema ConversionType
		v.enum(d, "eventDescription.eventSource", amazon.EventSources, true)       // schema EventSource
		v.ingestionMethod(d, "eventDescription.eventIngestionMethod")
		v.dataSetName(d, "eventDescription.dataSetName")
	}
	v.eventTime(ev, "eventTime")
	conversionType := conversionTypeOf(ev, apiV2)
	v.enum(ev, "countryCode", amazon.CountryCodes, true)    // schema CountryCode
	v.enum(ev, "currencyCode", amazon.CurrencyCodes, false) // schema CurrencyCode
	v.purchaseCurrency(ev, conversionType)
	v.value(ev, conversionType)
	v.unitsSold(ev)
	v.matchKeys(ev, amazon.MatchKeyTypes, maxMatchKeys)
	v.customDataV2(ev)
	v.consent(ev)
	// schema EventCreate.eventId, .amazonAdEventKey and .partner: "type":
	// "string", with no further rule.
	v.str(ev, "eventId", false)
	v.str(ev, "amazonAdEventKey", false)
	v.str(ev, "partner", false)
	v.arefMeasurementTokens(ev)
	// schema CreateDataProcessingOptions.options: DataProcessingOption enum.
	if dpo, ok := v.object(ev, "dataProcessingOptions", false); ok {
		v.enum(dpo, "dataProcessingOptions.options", amazon.DataProcessingOptionValues, false)
	}
	if di, ok := v.object(ev, "deviceInfo", false); ok {
		// schema CreateDeviceInfo.userAgent: "Max 512 characters."
		if ua, ok := v.str(di, "deviceInfo.userAgent", false); ok && utf8.RuneCountInString(ua) > maxUserAgent {
			v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", "deviceInfo.userAgent", "is %d characters; at most %d are allowed", utf8.RuneCountInString(ua), maxUserAgent)
		}
	}
}

// purchaseCurrency refuses a purchase without currencyCode. Source: the
// schema's value text ("For OFF_AMAZON_PURCHASES conversionType,
// represents monetary value"): a money value means nothing without its
// currency. Amazon's v1 text (quoted in SEG types.ts) lets Amazon fall back
// to the currency set on the event in Amazon's console, which the shop's
// server cannot see; the module refuses to depend on it (its config
// requires a currency on purchases), and the sandbox holds events to the
// same rule so that a mapping that would rely on it is caught here.
func (v *validator) purchaseCurrency(ev map[string]any, conversionType string) {
	if conversionType != "OFF_AMAZON_PURCHASES" {
		return
	}
	if s, _ := ev["currencyCode"].(string); s == "" {
		v.fail("FIELD_VALUE_IS_NULL", "currencyCode", "is required for OFF_AMAZON_PURCHASES (a money value needs its currency)")
	}
}

// ingestionMethod: schema EventIngestionMethod, whose only value is
// SERVER_TO_SERVER.
func (v *validator) ingestionMethod(d map[string]any, field string) {
	if m, ok := v.str(d, field, true); ok && m != ingestionServerToServer {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be %s", ingestionServerToServer)
	}
}

// dataSetName: schema CreateEventDescription.dataSetName pattern, and the
// 5–100 characters of SEG index.ts at 038048ee67 [M].
func (v *validator) dataSetName(d map[string]any, field string) {
	n, ok := v.str(d, field, false)
	if !ok {
		return
	}
	switch {
	case !dataSetPattern.MatchString(n):
		v.fail("FIELD_VALUE_CONTAINS_INVALID_CHARACTERS", field, "must start with a letter followed by letters, digits, _ or -")
	case len(n) < minDataSetName || len(n) > maxDataSetName:
		v.fail("FIELD_SIZE_IS_OUT_OF_RANGE", field, "is %d characters; %d to %d are allowed", len(n), minDataSetName, maxDataSetName)
	}
}

// eventTime checks an RFC 3339 date-time (schema EventCreate.eventTime
// "format": "date-time"; v1: SEG trackConversion/fields.ts timestamp, "ISO
// format (YYYY-MM-DDThh:mm:ssTZD)") no older than maxAge (docs/amazon.md
// "Two generations": 21 days for v2 [H], 7 days for v1 [M]). No source
// limits how far ahead it may be; the module refuses more than amazon.MaxEventTimeAhead, and so does
// the sandbox, so that a module that let one through is caught.
func (v *validator) eventTime(ev map[string]any, field string) {
	s, ok := v.str(ev, field, true)
	if !ok {
		return
	}
	var t time.Time
	var err error
	if !dateTimePattern.MatchString(s) {
		err = fmt.Errorf("not RFC 3339")
	} else {
		t, err = time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	}
	switch {
	case err != nil:
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be an RFC 3339 date-time such as 2026-01-02T15:04:05.000Z")
	case t.Before(v.now.Add(-v.maxAge)):
		v.fail("DATE_CANNOT_BE_IN_PAST", field, "is older than %d days", int(v.maxAge.Hours()/24))
	case t.After(v.now.Add(amazon.MaxEventTimeAhead)):
		v.fail("FIELD_VALUE_IS_OUT_OF_RANGE", field, "is more than %s in the future", amazon.MaxEventTimeAhead)
	}
}

// value: schema EventCreate.value, "format": "double", "For
// OFF_AMAZON_PURCHASES conversionType, represents monetary value (min 0,
// max 2 decimals). For other conversionTypes, … (can be negative, max 2
// decimals)." v1 value is the same field (docs/amazon.md "Two
// generations", the renames [H]).
func (v *validator) value(ev map[string]any, conversionType string) {
	n, ok := v.number(ev, "value")
	if !ok {
		return
	}
	r, ok := rational(n)
	switch {
	case !ok:
		v.fail("FIELD_VALUE_IS_INVALID", "value", "must be a finite number a double can hold")
	case !hasAtMostTwoDecimals(r):
		v.fail("FIELD_VALUE_IS_INVALID", "value", "may have at most 2 decimals")
	}
	if ok && r.Sign() < 0 && conversionType == offAmazonPurchases {
		v.fail("FIELD_VALUE_IS_BELOW_MINIMUM_LIMIT", "value", "must not be negative for OFF_AMAZON_PURCHASES")
	}
}

// unitsSold: schema EventCreate.unitsSold, "type": "integer", "format":
// "int32", "The number of items purchased." A count of items is not
// negative (the issue "Match like Amazon" asks to refuse negatives; the
// schema gives no explicit minimum, so 0 stays allowed).
//
// The schema also says "Only applicable for OFF_AMAZON_PURCHASES event
// type" and "If not provided on the event, a default of 1 will be
// applied". Read literally, that says where the field has meaning, not
// that Amazon refuses it elsewhere, so on other conversion types it is
// accepted (and Amazon ignores it); the same holds for currencyCode (SEG
// types.ts CurrencyCodeV1: "Only applicable for OFF_AMAZON_PURCHASES
// event type"). Neither is required: currencyCode "If not provided, the
// currencyCode setting on the event will be used" (SEG types.ts, quoting
// Amazon's v1 text), and unitsSold defaults to 1 (schema).
func (v *validator) unitsSold(ev map[string]any) {
	n, ok := v.number(ev, "unitsSold")
	if !ok {
		return
	}
	r, ok := rational(n)
	switch {
	case !ok || !r.IsInt():
		v.fail("FIELD_VALUE_IS_INVALID", "unitsSold", "must be an integer")
	case !fitsInt32(r):
		v.fail("FIELD_VALUE_IS_OUT_OF_RANGE", "unitsSold", "must fit a 32-bit signed integer")
	case r.Sign() < 0:
		v.fail("FIELD_VALUE_IS_BELOW_MINIMUM_LIMIT", "unitsSold", "is a number of items and must not be negative")
	}
}

// customDataV2: schema EventCreate.customData (at most 13) of
// CreateCustomData {name, dataType, value}.
func (v *validator) customDataV2(ev map[string]any) {
	v.eachCustom(ev, "customData", func(c map[string]any, f string) {
		// schema CreateCustomData.required: name, value; both "Only
		// letters, numbers and the underscore character are allowed."
		for _, name := range []string{"name", "value"} {
			if s, ok := v.str(c, f+"."+name, true); ok && !customPattern.MatchString(s) {
				v.fail("FIELD_VALUE_CONTAINS_INVALID_CHARACTERS", f+"."+name, "only letters, digits and _ are allowed")
			}
		}
		// schema DataType: STRING, INTEGER ("32-bit signed integer data
		// type") or TIMESTAMP; optional.
		dataType, ok := v.enum(c, f+".dataType", amazon.CustomDataTypes, false)
		if val, _ := c["value"].(string); ok && dataType == "INTEGER" && customPattern.MatchString(val) && !isInt32(val) {
			v.fail("FIELD_VALUE_IS_INVALID", f+".value", "an INTEGER custom value must be a 32-bit signed integer")
		}
	})
}

// eachCustom checks field is an array of at most maxCustomData objects
// (schema EventCreate.customData maxItems 13; v1 customAttributes is the
// same list renamed, docs/amazon.md "Two generations" [H], and SEG
// trackConversion/fields.ts offers 13: brand, category, productId,
// attr1–attr10) and calls check on each.
func (v *validator) eachCustom(ev map[string]any, field string, check func(c map[string]any, f string)) {
	list, ok := v.array(ev, field, false)
	if !ok {
		return
	}
	if len(list) > maxCustomData {
		v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", field, "holds %d items; at most %d are allowed", len(list), maxCustomData)
	}
	for i, item := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		if c, ok := v.item(item, f); ok {
			check(c, f)
		}
	}
}

// consent: schema CreateConsent and its parts; v1 consent has the same
// shape (SEG types.ts ConsentData).
func (v *validator) consent(ev map[string]any) {
	c, ok := v.object(ev, "consent", false)
	if v.eu && (ok || ev["consent"] == nil) && !hasConsentSignal(c) {
		// schema CreateConsent.description: "For EU advertisers, it is
		// required to provide one of geo, amazonConsent, tcf, or gpp."
		// (docs/amazon.md "The event" [H]); SEG trackConversion/utils.ts
		// validateConsent refuses the event for the EU region without one
		// [M].
		v.fail("FIELD_VALUE_IS_NULL", "consent", "an EU advertiser's event needs one of consent.geo, consent.amazonConsent, consent.tcf or consent.gpp")
	}
	if !ok {
		return
	}
	if geo, ok := v.object(c, "consent.geo", false); ok {
		// schema CreateGeographicConsentData.required: ipAddress, "IP
		// address of the user".
		if ip, ok := v.str(geo, "consent.geo.ipAddress", true); ok && !isIP(ip) {
			v.fail("FIELD_VALUE_IS_INVALID", "consent.geo.ipAddress", "must be an IPv4 or IPv6 address")
		}
	}
	if ac, ok := v.object(c, "consent.amazonConsent", false); ok {
		// schema CreateAmazonConsentFormat.required: amznUserData; both
		// flags are ConsentStatus (GRANTED, DENIED).
		v.enum(ac, "consent.amazonConsent.amznUserData", amazon.ConsentStatuses, true)
		v.enum(ac, "consent.amazonConsent.amznAdStorage", amazon.ConsentStatuses, false)
	}
	// schema CreateConsent.tcf and .gpp: "type": "string".
	v.str(c, "consent.tcf", false)
	v.str(c, "consent.gpp", false)
}

// hasConsentSignal reports whether c holds one of geo, amazonConsent, tcf
// or gpp; an empty string does not count (SEG trackConversion/utils.ts
// validateConsent keeps only non-empty strings).
func hasConsentSignal(c map[string]any) bool {
	for _, k := range []string{"geo", "amazonConsent"} {
		if c[k] != nil {
			return true
		}
	}
	for _, k := range []string{"tcf", "gpp"} {
		if s, ok := c[k].(string); ok && strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// arefMeasurementTokens: schema EventCreate.arefMeasurementTokens (see
// arefPattern). The message never quotes the tokens.
func (v *validator) arefMeasurementTokens(ev map[string]any) {
	if s, ok := v.str(ev, "arefMeasurementTokens", false); ok && !arefPattern.MatchString(s) {
		v.fail("FIELD_VALUE_IS_INVALID", "arefMeasurementTokens",
			"must be <token>.<unix_ms> pairs separated by |, each token 10 letters or digits and each time 13 digits")
	}
}
