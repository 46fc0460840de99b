// Package amazon speaks Amazon Ads' Conversions (Events) API: the event wire
// types of the current v2 API and the legacy v1 API, request building,
// response parsing, Login with Amazon tokens and regional hosts.
//
// It knows nothing about Caddy, queues or the mapping language: it turns a
// batch of Events into one HTTP request and the answer into a Result.
package amazon

// Event is one conversion in the shape of the v2 EventCreate schema. It is
// the project's canonical event: the mapping builds it, the forwarder stores
// and batches it, and the v1 API is served by converting it (see V1Event).
type Event struct {
	// EventDescription names the event and says what kind of conversion it is.
	EventDescription EventDescription `json:"eventDescription"`
	// EventTime is when the conversion happened, ISO-8601 (RFC 3339) in UTC.
	EventTime string `json:"eventTime"`
	// EventID is the dedupe key; it stays the same for the event's whole life.
	EventID string `json:"eventId,omitempty"`
	// CountryCode is the ISO 3166-1 alpha-2 country of the conversion.
	CountryCode string `json:"countryCode"`
	// MatchKeys identify the customer; hashed for PII types, 1–15 of them.
	MatchKeys []MatchKey `json:"matchKeys"`
	// Value is the conversion value, at most two decimals.
	Value *float64 `json:"value,omitempty"`
	// CurrencyCode is the ISO-4217 currency of Value.
	CurrencyCode string `json:"currencyCode,omitempty"`
	// UnitsSold is the number of items bought (purchases only).
	UnitsSold *int64 `json:"unitsSold,omitempty"`
	// CustomData carries up to 13 extra attributes.
	CustomData []CustomData `json:"customData,omitempty"`
	// DataProcessingOptions flags limited data use.
	DataProcessingOptions *DataProcessingOptions `json:"dataProcessingOptions,omitempty"`
	// Consent carries the user's consent signals.
	Consent *Consent `json:"consent,omitempty"`
	// DeviceInfo carries the browser's user agent.
	DeviceInfo *DeviceInfo `json:"deviceInfo,omitempty"`
	// AmazonAdEventKey is Amazon's traffic identifier for post-attributed
	// events, when the shop has one.
	AmazonAdEventKey string `json:"amazonAdEventKey,omitempty"`
	// ArefMeasurementTokens are the click tokens of Amazon ad clicks that
	// led to the visit: <token>.<unix_ms> pairs joined by '|'.
	ArefMeasurementTokens string `json:"arefMeasurementTokens,omitempty"`
	// Partner names the third-party service that delivers the conversions.
	Partner string `json:"partner,omitempty"`
}

// EventDescription is the v2 composite key of an event.
type EventDescription struct {
	// Name is the event's name as the advertiser set it up in Amazon.
	Name string `json:"name"`
	// ConversionType is one of ConversionTypes.
	ConversionType string `json:"conversionType"`
	// EventSource is one of EventSources.
	EventSource string `json:"eventSource"`
	// EventIngestionMethod is always SERVER_TO_SERVER for this API.
	EventIngestionMethod string `json:"eventIngestionMethod"`
	// DataSetName is the event data set the event is added to (schema
	// pattern DataSetNamePattern).
	DataSetName string `json:"dataSetName,omitempty"`
}

// hashedKeyTypes are the match key types whose value Amazon wants
// normalised and SHA-256 hashed; the others are sent raw (docs/amazon.md
// "Match keys" [H]; schema CreateMatchKey: "PII-based match key data needs
// to be normalized and hashed").
var hashedKeyTypes = map[string]bool{
	"EMAIL": true, "PHONE": true, "FIRST_NAME": true, "LAST_NAME": true,
	"ADDRESS": true, "CITY": true, "STATE": true, "POSTAL": true,
}

// IsHashedKeyType reports whether a match key type's value is sent hashed.
func IsHashedKeyType(t string) bool { return hashedKeyTypes[t] }

// IngestionServerToServer is the only ingestion method of the Events API.
const IngestionServerToServer = "SERVER_TO_SERVER"

// LimitedDataUse is the one data processing option Amazon defines.
const LimitedDataUse = "LIMITED_DATA_USE"

// MatchKey is one customer identifier: a type and exactly one value.
type MatchKey struct {
	// Type is one of MatchKeyTypes.
	Type string `json:"type"`
	// Values holds exactly one value, hashed for PII types.
	Values []string `json:"values"`
}

// CustomData is one extra attribute of an event.
type CustomData struct {
	// Name is letters, digits and underscores.
	Name string `json:"name"`
	// DataType is one of CustomDataTypes; STRING when empty.
	DataType string `json:"dataType,omitempty"`
	// Value is letters, digits and underscores.
	Value string `json:"value"`
}

// DataProcessingOptions is the v2 form of the data processing flag.
type DataProcessingOptions struct {
	// Options is LIMITED_DATA_USE.
	Options string `json:"options,omitempty"`
}

// Consent is the user's consent for advertising use of the event.
type Consent struct {
	// Geo carries the IP address Amazon uses to find the user's region.
	Geo *GeoConsent `json:"geo,omitempty"`
	// AmazonConsent carries Amazon's own consent flags.
	AmazonConsent *AmazonConsent `json:"amazonConsent,omitempty"`
	// TCF is an IAB TCF consent string.
	TCF string `json:"tcf,omitempty"`
	// GPP is an IAB Global Privacy Platform string.
	GPP string `json:"gpp,omitempty"`
}

// Empty reports whether the consent carries no signal at all.
func (c *Consent) Empty() bool {
	return c == nil || (c.Geo == nil && c.AmazonConsent == nil && c.TCF == "" && c.GPP == "")
}

// GeoConsent is the geographic consent data.
type GeoConsent struct {
	// IPAddress is the user's IP address.
	IPAddress string `json:"ipAddress"`
}

// AmazonConsent holds Amazon's consent flags, GRANTED or DENIED.
type AmazonConsent struct {
	// AmznUserData says whether the user's data may be used for ads.
	AmznUserData string `json:"amznUserData"`
	// AmznAdStorage says whether ad storage is allowed.
	AmznAdStorage string `json:"amznAdStorage,omitempty"`
}

// DeviceInfo describes the user's device.
type DeviceInfo struct {
	// UserAgent is the raw user agent, at most 512 characters.
	UserAgent string `json:"userAgent,omitempty"`
}
