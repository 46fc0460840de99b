package sandbox

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// maxErrors is the most errors Amazon lists for one event (ErrorsIndex.errors).
const maxErrors = 20

// Limits from Amazon's schema and API notes.
const (
	maxMatchKeys  = 15
	maxCustomData = 13
	maxUserAgent  = 512
	maxMatchID    = 100
	maxFuture     = time.Hour
)

// validator collects one event's errors.
type validator struct {
	prefix string // e.g. events[3]
	now    time.Time
	maxAge time.Duration
	errs   []FieldError
}

// fail records an error on field, a path relative to the event.
func (v *validator) fail(code, field, format string, args ...any) {
	if len(v.errs) < maxErrors {
		v.errs = append(v.errs, FieldError{Code: code, FieldLocation: v.prefix + "." + field, Message: fmt.Sprintf(format, args...)})
	}
}

// eventV2 validates an EventCreate.
func (v *validator) eventV2(ev map[string]any) {
	if d, ok := v.object(ev, "eventDescription", true); ok {
		v.str(d, "eventDescription.name", true)
		v.enum(d, "eventDescription.conversionType", amazon.ConversionTypes, true)
		v.enum(d, "eventDescription.eventSource", amazon.EventSources, true)
		v.ingestionMethod(d, "eventDescription.eventIngestionMethod")
		if n, ok := v.str(d, "eventDescription.dataSetName", false); ok && !dataSetPattern.MatchString(n) {
			v.fail("FIELD_VALUE_CONTAINS_INVALID_CHARACTERS", "eventDescription.dataSetName", "must start with a letter followed by letters, digits, _ or -")
		}
	}
	v.eventTime(ev, "eventTime")
	v.common(ev, conversionTypeOf(ev, apiV2), "customData")
	for _, f := range []string{"eventId", "amazonAdEventKey", "arefMeasurementTokens", "partner"} {
		v.str(ev, f, false)
	}
	if dpo, ok := v.object(ev, "dataProcessingOptions", false); ok {
		v.enum(dpo, "dataProcessingOptions.options", amazon.DataProcessingOptionValues, false)
	}
	if di, ok := v.object(ev, "deviceInfo", false); ok {
		if ua, ok := v.str(di, "deviceInfo.userAgent", false); ok && utf8.RuneCountInString(ua) > maxUserAgent {
			v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", "deviceInfo.userAgent", "is %d characters; at most %d are allowed", utf8.RuneCountInString(ua), maxUserAgent)
		}
	}
}

// eventV1 validates a legacy v1 event: the v2 rules under the v1 names.
func (v *validator) eventV1(ev map[string]any) {
	v.str(ev, "name", true)
	v.enum(ev, "eventType", amazon.ConversionTypes, true)
	v.enum(ev, "eventActionSource", amazon.EventSources, true)
	v.eventTime(ev, "timestamp")
	v.common(ev, conversionTypeOf(ev, apiV1), "customAttributes")
	v.str(ev, "clientDedupeId", false)
	list, ok := v.array(ev, "dataProcessingOptions", false)
	if !ok {
		return
	}
	for i, o := range list {
		if s, _ := o.(string); !amazon.DataProcessingOptionValues.Has(s) {
			v.fail("FIELD_VALUE_IS_INVALID", fmt.Sprintf("dataProcessingOptions[%d]", i), "%s", amazon.DataProcessingOptionValues.Check(fmt.Sprint(o)))
		}
	}
}

func (v *validator) ingestionMethod(d map[string]any, field string) {
	if m, ok := v.str(d, field, true); ok && m != ingestionServerToServer {
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be %s", ingestionServerToServer)
	}
}

// common validates the fields both generations share under one name.
func (v *validator) common(ev map[string]any, conversionType, customField string) {
	v.enum(ev, "countryCode", amazon.CountryCodes, true)
	v.enum(ev, "currencyCode", amazon.CurrencyCodes, false)
	v.value(ev, conversionType)
	v.unitsSold(ev)
	v.matchKeys(ev)
	v.customData(ev, customField)
	v.consent(ev)
}

// eventTime checks an RFC 3339 date-time inside Amazon's window: not older
// than maxAge, not more than an hour ahead.
func (v *validator) eventTime(ev map[string]any, field string) {
	s, ok := v.str(ev, field, true)
	if !ok {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	switch {
	case err != nil:
		v.fail("FIELD_VALUE_IS_INVALID", field, "must be an RFC 3339 date-time such as 2026-01-02T15:04:05.000Z")
	case t.Before(v.now.Add(-v.maxAge)):
		v.fail("DATE_CANNOT_BE_IN_PAST", field, "is older than %d days", int(v.maxAge.Hours()/24))
	case t.After(v.now.Add(maxFuture)):
		v.fail("FIELD_VALUE_IS_OUT_OF_RANGE", field, "is more than an hour in the future")
	}
}

func (v *validator) value(ev map[string]any, conversionType string) {
	n, ok := v.number(ev, "value")
	if !ok {
		return
	}
	r, ok := rational(n)
	switch {
	case !ok:
		v.fail("FIELD_VALUE_IS_INVALID", "value", "must be a finite number")
	case !hasAtMostTwoDecimals(r):
		v.fail("FIELD_VALUE_IS_INVALID", "value", "may have at most 2 decimals")
	}
	if ok && r.Sign() < 0 && conversionType == "OFF_AMAZON_PURCHASES" {
		v.fail("FIELD_VALUE_IS_BELOW_MINIMUM_LIMIT", "value", "must not be negative for OFF_AMAZON_PURCHASES")
	}
}

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
	}
}

func (v *validator) customData(ev map[string]any, field string) {
	list, ok := v.array(ev, field, false)
	if !ok {
		return
	}
	if len(list) > maxCustomData {
		v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", field, "holds %d items; at most %d are allowed", len(list), maxCustomData)
	}
	for i, item := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		c, ok := v.item(item, f)
		if !ok {
			continue
		}
		for _, name := range []string{"name", "value"} {
			if s, ok := v.str(c, f+"."+name, true); ok && !customPattern.MatchString(s) {
				v.fail("FIELD_VALUE_CONTAINS_INVALID_CHARACTERS", f+"."+name, "only letters, digits and _ are allowed")
			}
		}
		v.enum(c, f+".dataType", amazon.CustomDataTypes, false)
	}
}

func (v *validator) consent(ev map[string]any) {
	c, ok := v.object(ev, "consent", false)
	if !ok {
		return
	}
	if geo, ok := v.object(c, "consent.geo", false); ok {
		if ip, ok := v.str(geo, "consent.geo.ipAddress", true); ok && !isIP(ip) {
			v.fail("FIELD_VALUE_IS_INVALID", "consent.geo.ipAddress", "must be an IPv4 or IPv6 address")
		}
	}
	if ac, ok := v.object(c, "consent.amazonConsent", false); ok {
		v.enum(ac, "consent.amazonConsent.amznUserData", amazon.ConsentStatuses, true)
		v.enum(ac, "consent.amazonConsent.amznAdStorage", amazon.ConsentStatuses, false)
	}
	v.str(c, "consent.tcf", false)
	v.str(c, "consent.gpp", false)
}
