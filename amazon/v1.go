package amazon

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// V1Request is the body of the legacy POST /events/v1 call.
type V1Request struct {
	// IngestionMethod is always SERVER_TO_SERVER.
	IngestionMethod string `json:"ingestionMethod"`
	// EventData holds the events.
	EventData []V1Event `json:"eventData"`
}

// V1Event is one event in the legacy v1 shape (the names the Adobe extension uses).
type V1Event struct {
	// Name is the event name.
	Name string `json:"name"`
	// EventType is the v2 conversionType.
	EventType string `json:"eventType"`
	// EventActionSource is the v2 eventSource.
	EventActionSource string `json:"eventActionSource"`
	// CountryCode is the ISO 3166-1 alpha-2 country.
	CountryCode string `json:"countryCode"`
	// Timestamp is the v2 eventTime.
	Timestamp string `json:"timestamp"`
	// ClientDedupeID is the v2 eventId.
	ClientDedupeID string `json:"clientDedupeId,omitempty"`
	// MatchKeys are as in v2, of the types v1 knows, at most 11.
	MatchKeys []MatchKey `json:"matchKeys"`
	// Value is the conversion value.
	Value *float64 `json:"value,omitempty"`
	// CurrencyCode is the ISO-4217 currency (purchases only).
	CurrencyCode string `json:"currencyCode,omitempty"`
	// UnitsSold is the number of items bought (purchases only).
	UnitsSold *int64 `json:"unitsSold,omitempty"`
	// CustomAttributes is the v2 customData, with v1's data types.
	CustomAttributes []V1CustomAttribute `json:"customAttributes,omitempty"`
	// DataProcessingOptions is the array form: ["LIMITED_DATA_USE"].
	DataProcessingOptions []string `json:"dataProcessingOptions,omitempty"`
	// Consent is as in v2.
	Consent *Consent `json:"consent,omitempty"`
}

// V1CustomAttribute is one v1 custom attribute.
type V1CustomAttribute struct {
	// Name is letters, digits and underscores.
	Name string `json:"name"`
	// DataType is STRING, NUMBER or BOOLEAN; left out when the v2 one was.
	DataType string `json:"dataType,omitempty"`
	// Value is the attribute's value.
	Value string `json:"value"`
}

// What v1 accepts, from Segment's v1 Amazon Conversions destination
// (segmentio/action-destinations,
// packages/destination-actions/src/destinations/amazon-conversions-api/, at
// commit ac4ec3b71e, the last version that called POST /events/v1, and
// f38578654b for custom attribute data types); docs/amazon.md "Two
// generations" rates it [M].
var (
	// v1EventActionSources: trackConversion/fields.ts eventActionSource
	// choices, upper-cased by trackConversion/utils.ts prepareEventData.
	v1EventActionSources = setOf("ANDROID", "FIRE_TV", "IOS", "OFFLINE", "WEBSITE")
	// v1MatchKeyTypes: types.ts enum MatchKeyTypeV1.
	v1MatchKeyTypes = setOf("EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "CITY", "STATE", "POSTAL", "MAID", "RAMP_ID", "MATCH_ID")
	// v1CurrencyCodes: types.ts enum CurrencyCodeV1.
	v1CurrencyCodes = setOf("AED", "AUD", "BRL", "CAD", "CNY", "EUR", "GBP", "INR", "JPY", "MXN", "SAR", "SEK", "SGD", "TRY", "USD", "DKK", "NOK", "NZD")
)

// v1MaxMatchKeys: trackConversion/utils.ts prepareEventData, "Enforce the
// maximum limit of 11 match keys" (it keeps the first 11).
const v1MaxMatchKeys = 11

func setOf(values ...string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// ToV1 converts an event to the legacy v1 shape, following the renames Amazon
// documents between the two generations (docs/amazon.md "Two
// generations" [H]) and v1's narrower enums; see ToV1Notes for what it
// changes or leaves out.
func (e *Event) ToV1() V1Event {
	v, _ := e.ToV1Notes()
	return v
}

// ToV1Notes is ToV1 that also says, in words fit for a log line and with no
// match-key value in them, what v1 could not carry. The mapping:
//
//   - conversionType → eventType unchanged: v1 has the same twelve types
//     (Segment's types.ts ConversionTypeV2, used by its v1 EventData).
//   - eventSource → eventActionSource unchanged. MEASUREMENT_ATTRIBUTION_PARTNER
//     has no v1 value and no documented fallback (WEBSITE, Segment's default,
//     would misstate where the event came from), so it is passed through,
//     Amazon's v1 refuses the event, and a note says to use api v2.
//   - match keys of types v1 lacks (REAL_ID, MERKLE_ID, KANTAR_ID, FIP) are
//     dropped, then the first 11 are kept, as Segment does. An event left
//     with none is sent with an empty list, which v1 refuses.
//   - currencyCode and unitsSold go only with OFF_AMAZON_PURCHASES, as
//     Segment sends them (trackConversion/utils.ts, commit 3e382a8e38); both
//     are "Only applicable for OFF_AMAZON_PURCHASES". A currency outside
//     v1's 18 is passed through (v1 refuses it) rather than dropped:
//     without it Amazon would read the value in the event's default
//     currency.
//   - customData → customAttributes, dataType STRING → STRING, INTEGER →
//     NUMBER, TIMESTAMP → NUMBER with the value as Unix epoch seconds
//     (Segment's v1 has STRING, NUMBER and BOOLEAN and no timestamp type,
//     so it gives nothing better; the mapping already writes TIMESTAMP
//     values as epoch seconds, and an RFC 3339 value is converted). No
//     dataType stays none.
//   - dataProcessingOptions {"options": X} → [X] (docs/amazon.md "Two
//     generations" [H]).
//   - deviceInfo has no v1 field and is dropped.
func (e *Event) ToV1Notes() (V1Event, []string) {
	var notes []string
	d := e.EventDescription
	v := V1Event{
		Name:              d.Name,
		EventType:         d.ConversionType,
		EventActionSource: d.EventSource,
		CountryCode:       e.CountryCode,
		Timestamp:         e.EventTime,
		ClientDedupeID:    e.EventID,
		Value:             e.Value,
		Consent:           e.Consent,
	}
	if !v1EventActionSources[d.EventSource] {
		notes = append(notes, fmt.Sprintf("eventSource %s has no v1 eventActionSource; Amazon's v1 will refuse the event (use api v2)", d.EventSource))
	}
	v.MatchKeys = make([]MatchKey, 0, len(e.MatchKeys))
	for _, k := range e.MatchKeys {
		switch {
		case !v1MatchKeyTypes[k.Type]:
			notes = append(notes, fmt.Sprintf("a %s match key was left out: v1 has no such type", k.Type))
		case len(v.MatchKeys) == v1MaxMatchKeys:
			notes = append(notes, fmt.Sprintf("a %s match key was left out: v1 takes at most %d", k.Type, v1MaxMatchKeys))
		default:
			v.MatchKeys = append(v.MatchKeys, k)
		}
	}
	if len(v.MatchKeys) == 0 && len(e.MatchKeys) > 0 {
		notes = append(notes, "no match key is left for v1; Amazon's v1 will refuse the event")
	}
	if d.ConversionType == "OFF_AMAZON_PURCHASES" {
		v.CurrencyCode, v.UnitsSold = e.CurrencyCode, e.UnitsSold
		if e.CurrencyCode != "" && !v1CurrencyCodes[e.CurrencyCode] {
			notes = append(notes, fmt.Sprintf("currencyCode %s is not one of v1's currencies; Amazon's v1 will refuse the event", e.CurrencyCode))
		}
	}
	for _, c := range e.CustomData {
		a, note := customAttributeV1(c)
		v.CustomAttributes = append(v.CustomAttributes, a)
		if note != "" {
			notes = append(notes, note)
		}
	}
	if e.DataProcessingOptions != nil && e.DataProcessingOptions.Options != "" {
		v.DataProcessingOptions = []string{e.DataProcessingOptions.Options}
	}
	if e.DeviceInfo != nil && e.DeviceInfo.UserAgent != "" {
		notes = append(notes, "deviceInfo.userAgent was left out: v1 has no such field")
	}
	return v, notes
}

// customAttributeV1 converts one custom datum to v1's types.
func customAttributeV1(c CustomData) (V1CustomAttribute, string) {
	a := V1CustomAttribute{Name: c.Name, DataType: c.DataType, Value: c.Value}
	switch c.DataType {
	case "INTEGER":
		a.DataType = "NUMBER"
	case "TIMESTAMP":
		a.DataType = "NUMBER"
		if secs, ok := epochSeconds(c.Value); ok {
			a.Value = secs
		} else {
			return a, fmt.Sprintf("custom attribute %s: TIMESTAMP value is neither epoch seconds nor RFC 3339; sent as it is", c.Name)
		}
	}
	return a, ""
}

// epochSeconds returns s as Unix epoch seconds: s itself when it is an
// integer, else the RFC 3339 date-time s names.
func epochSeconds(s string) (string, bool) {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s, true
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil {
		return "", false
	}
	return strconv.FormatInt(t.Unix(), 10), true
}
