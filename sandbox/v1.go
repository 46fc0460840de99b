package sandbox

import (
	"fmt"
	"unicode/utf8"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// The legacy v1 API (POST /events/v1) is not in Amazon's OpenAPI. Its
// names are the v2 ones renamed (docs/amazon.md "Two generations" [H]:
// eventType, eventActionSource, timestamp, clientDedupeId,
// customAttributes, dataProcessingOptions as an array); its enums and limits are those of Segment's v1 destination
// [M], which are narrower than v2's. Segment named them for v1
// (MatchKeyTypeV1, CurrencyCodeV1, CustomAttributeV1) and wrote them when
// its destination called /events/v1; its later v2 destination kept the
// same lists, so they are [M], not Amazon's word. These tables are the
// sandbox's own, not amazon/v1.go's, so that a wrong table in the encoder
// shows.
var (
	// v1EventTypes: SEG types.ts enum ConversionTypeV2, the eventType of
	// its v1 EventData (the same twelve values as v2).
	v1EventTypes = amazon.NewEnum("v1 eventType",
		"ADD_TO_SHOPPING_CART", "APPLICATION", "CHECKOUT", "CONTACT", "LEAD", "MOBILE_APP_FIRST_START",
		"OFF_AMAZON_PURCHASES", "OTHER", "PAGE_VIEW", "SEARCH", "SIGN_UP", "SUBSCRIBE")
	// v1EventActionSources: SEG trackConversion/fields.ts eventActionSource
	// choices (android, fire_tv, ios, offline, website), upper-cased by
	// trackConversion/utils.ts prepareEventData. v1 has no
	// MEASUREMENT_ATTRIBUTION_PARTNER.
	v1EventActionSources = amazon.NewEnum("v1 eventActionSource", "ANDROID", "FIRE_TV", "IOS", "OFFLINE", "WEBSITE")
	// v1MatchKeyTypes: SEG types.ts enum MatchKeyTypeV1. v1 has no
	// REAL_ID, MERKLE_ID, KANTAR_ID or FIP.
	v1MatchKeyTypes = amazon.NewEnum("v1 match key type",
		"ADDRESS", "CITY", "EMAIL", "FIRST_NAME", "LAST_NAME", "MAID", "MATCH_ID", "PHONE", "POSTAL", "RAMP_ID", "STATE")
	// v1CurrencyCodes: SEG types.ts enum CurrencyCodeV1 (18 currencies;
	// v2's CurrencyCode has 81).
	v1CurrencyCodes = amazon.NewEnum("v1 currencyCode",
		"AED", "AUD", "BRL", "CAD", "CNY", "DKK", "EUR", "GBP", "INR", "JPY", "MXN", "NOK", "NZD", "SAR", "SEK", "SGD", "TRY", "USD")
	// v1CustomDataTypes: SEG types.ts at f38578654b, CustomAttributeV1
	// dataType?: 'STRING' | 'NUMBER' | 'BOOLEAN' (optional).
	v1CustomDataTypes = amazon.NewEnum("v1 custom attribute dataType", "BOOLEAN", "NUMBER", "STRING")
)

// Limits of a v1 event.
const (
	// maxV1MatchKeys: SEG trackConversion/utils.ts prepareEventData,
	// "Enforce the maximum limit of 11 match keys".
	maxV1MatchKeys = 11
	// maxV1CustomValue: SEG trackConversion/fields.ts at f38578654b,
	// customAttributes value "Max length 256 characters."
	maxV1CustomValue = 256
)

// eventV1 validates a legacy v1 event (SEG types.ts EventData).
func (v *validator) eventV1(ev map[string]any) {
	// SEG types.ts EventData: name, eventType, eventActionSource,
	// countryCode and timestamp are required (trackConversion/fields.ts
	// required: true), and matchKeys (docs/amazon.md "The event" [H]:
	// required in v2, and SEG prepareEventData refuses an event without
	// one).
	v.str(ev, "name", true)
	v.enum(ev, "eventType", v1EventTypes, true)
	v.enum(ev, "eventActionSource", v1EventActionSources, true)
	v.eventTime(ev, "timestamp")
	conversionType := conversionTypeOf(ev, apiV1)
	// countryCode: SEG validateCountryCode wants ISO 3166-1 alpha-2; the
	// values are schema CountryCode's (the field is the same,
	// docs/amazon.md "Two generations" [H]).
	v.enum(ev, "countryCode", amazon.CountryCodes, true)
	v.enum(ev, "currencyCode", v1CurrencyCodes, false)
	v.purchaseCurrency(ev, conversionType)
	v.value(ev, conversionType)
	v.unitsSold(ev)
	v.matchKeys(ev, v1MatchKeyTypes, maxV1MatchKeys)
	v.customAttributes(ev)
	v.consent(ev)
	// SEG types.ts EventData: clientDedupeId is a string; at f38578654b
	// also amazonImpressionId and amazonClickId.
	v.str(ev, "clientDedupeId", false)
	v.str(ev, "amazonImpressionId", false)
	v.str(ev, "amazonClickId", false)
	// dataProcessingOptions: an array of DataProcessingOption values
	// (docs/amazon.md "Two generations" [H] rename; SEG types.ts
	// dataProcessingOptions?: string[], trackConversion/fields.ts choices
	// LIMITED_DATA_USE).
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

// customAttributes: v1's customData (docs/amazon.md "Two generations"
// [H] rename), SEG types.ts at f38578654b CustomAttributeV1 {name,
// dataType?, value}.
func (v *validator) customAttributes(ev map[string]any) {
	v.eachCustom(ev, "customAttributes", func(c map[string]any, f string) {
		// SEG trackConversion/fields.ts at f38578654b: name "Only letters,
		// numbers and the underscore character are allowed."; value "Max
		// length 256 characters." (no character rule for v1 values).
		if s, ok := v.str(c, f+".name", true); ok && !customPattern.MatchString(s) {
			v.fail("FIELD_VALUE_CONTAINS_INVALID_CHARACTERS", f+".name", "only letters, digits and _ are allowed")
		}
		if s, ok := v.str(c, f+".value", true); ok && utf8.RuneCountInString(s) > maxV1CustomValue {
			v.fail("FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT", f+".value", "is %d characters; at most %d are allowed", utf8.RuneCountInString(s), maxV1CustomValue)
		}
		v.enum(c, f+".dataType", v1CustomDataTypes, false)
	})
}
