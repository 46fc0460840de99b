// Package mapping is the language that turns one HTTP request (and, later,
// the site's answer) into one Amazon conversion event.
//
// A Rule is what the operator configured for an event: each field is a
// path (body.order.total, header.CF-IPCountry, request.remote_ip, …), a Caddy
// placeholder ({http.request.uri}) or a literal (USD). Compile checks a Rule
// once, when the config loads, and turns it into a Mapping; Mapping.Evaluate
// then builds an amazon.Event from a Request, normalizing and hashing match
// keys so that no raw PII leaves the process.
//
// The package does not import Caddy: the caller supplies the request view
// and, for placeholders, a replace function.
package mapping

// Rule is an event's mapping as written in the config. Every string field is
// a value expression: a path (it starts with a root such as body., form.,
// query., header., cookie., request. or response.), a Caddy placeholder in
// {…}, or a literal.
type Rule struct {
	// EventName is the event's name in Amazon (eventDescription.name).
	// Default: the name of the event block.
	EventName string `json:"event_name,omitempty"`
	// Type is the conversion type (conversionType), e.g. OFF_AMAZON_PURCHASES,
	// ADD_TO_SHOPPING_CART, SIGN_UP. Required.
	Type string `json:"type,omitempty"`
	// Source is where the event happened (eventSource). Default: WEBSITE.
	Source string `json:"source,omitempty"`
	// Timestamp is when the conversion happened: RFC 3339 / ISO-8601 text or
	// Unix seconds or milliseconds. Default: the time the request arrived.
	Timestamp string `json:"timestamp,omitempty"`
	// DedupeID is the event's dedupe key (eventId; v1 clientDedupeId), e.g.
	// the order ID. Default: a random ID generated once for the event.
	DedupeID string `json:"dedupe_id,omitempty"`
	// Value is the conversion's value: a number or numeric string, rounded to
	// two decimals. Must not be negative for OFF_AMAZON_PURCHASES.
	Value string `json:"value,omitempty"`
	// Currency is the ISO-4217 code of Value, e.g. USD.
	Currency string `json:"currency,omitempty"`
	// UnitsSold is the number of items bought (purchases), a whole number.
	UnitsSold string `json:"units_sold,omitempty"`
	// Country is the ISO 3166-1 alpha-2 country of the conversion, e.g. US
	// or header.CF-IPCountry. Required.
	Country string `json:"country,omitempty"`
	// MatchKeys identify the customer; at least one, at most 15. PII types
	// are normalized and SHA-256 hashed before the event is stored or sent.
	MatchKeys []MatchKeyRule `json:"match_keys,omitempty"`
	// ValueScale divides Value, for money given in minor units: 12995 with
	// value_scale 100 is 129.95. Default: 1.
	ValueScale float64 `json:"value_scale,omitempty"`
	// LimitedDataUse sets dataProcessingOptions to LIMITED_DATA_USE when it
	// evaluates to a truthy value (1, true, yes, on, LIMITED_DATA_USE).
	LimitedDataUse string `json:"limited_data_use,omitempty"`
	// IgnoreGPC turns off the default that a request with the Global
	// Privacy Control header (Sec-GPC: 1) is sent with LIMITED_DATA_USE.
	IgnoreGPC bool `json:"ignore_gpc,omitempty"`
	// ConsentTCF is an IAB TCF consent string, e.g. cookie.euconsent-v2.
	ConsentTCF string `json:"consent_tcf,omitempty"`
	// ConsentGPP is an IAB Global Privacy Platform string.
	ConsentGPP string `json:"consent_gpp,omitempty"`
	// ConsentUserData is Amazon's amznUserData consent: GRANTED or DENIED,
	// or a truthy/falsy value that maps to them.
	ConsentUserData string `json:"amazon_consent_user_data,omitempty"`
	// ConsentAdStorage is Amazon's amznAdStorage consent, like
	// ConsentUserData. When it is mapped, the event sends click tokens
	// (arefMeasurementTokens) only if it grants. It goes into amazonConsent
	// only beside amazon_consent_user_data (Amazon requires amznUserData
	// there); mapped alone it only decides the click token. A click_token
	// without its own ad_storage reads it on landings.
	ConsentAdStorage string `json:"amazon_consent_ad_storage,omitempty"`
	// ConsentIP is the IP address for geographic consent (consent.geo).
	// Default: request.remote_ip, the client IP Caddy sees; "-" sends none.
	ConsentIP string `json:"consent_ip,omitempty"`
	// RequireConsent sends the event only when it carries an explicit
	// consent signal: consent_tcf, consent_gpp or amazon_consent_user_data
	// (the geo IP alone does not count). Others are counted and logged.
	RequireConsent bool `json:"require_consent,omitempty"`
	// UserAgent is the browser's user agent (deviceInfo.userAgent), cut to
	// 512 characters. Default: request.user_agent; "-" sends none.
	UserAgent string `json:"user_agent,omitempty"`
	// Custom adds customData attributes (at most 13).
	Custom []CustomRule `json:"custom,omitempty"`
	// DataSetName is the event data set in Amazon the event is added to
	// (eventDescription.dataSetName): a fixed name matching Amazon's
	// pattern, a letter then letters, digits, '_' or '-'. Default: none
	// (Amazon's default data set).
	DataSetName string `json:"data_set_name,omitempty"`
	// AmazonAdEventKey is Amazon's traffic identifier for post-attributed
	// events (amazonAdEventKey), when the site receives one.
	AmazonAdEventKey string `json:"amazon_ad_event_key,omitempty"`
	// Partner names the third-party service that delivers the conversions
	// (partner), for a platform that sends on its merchants' behalf.
	Partner string `json:"partner,omitempty"`
	// ArefMeasurementTokens maps Amazon's click tokens
	// (arefMeasurementTokens): <token>.<unix_ms> pairs joined by '|', e.g.
	// cookie.amzn_aref. Malformed pairs are left out.
	ArefMeasurementTokens string `json:"aref_measurement_tokens,omitempty"`
}

// MatchKeyRule maps one match key.
type MatchKeyRule struct {
	// Type is the match key type: EMAIL, PHONE, FIRST_NAME, LAST_NAME,
	// ADDRESS, CITY, STATE, POSTAL (hashed), or MAID, RAMP_ID, MATCH_ID,
	// REAL_ID, MERKLE_ID, KANTAR_ID, FIP (sent raw).
	Type string `json:"type"`
	// Value is the expression that gives the key's value.
	Value string `json:"value"`
	// Country is the customer's country for this key's normalisation
	// (phones without a country code, states, postal codes, addresses are
	// normalised per country), e.g. body.billing.country. Default: the
	// event's country.
	Country string `json:"country,omitempty"`
}

// CustomRule maps one customData attribute.
type CustomRule struct {
	// Name is the attribute's name: letters, digits and underscores.
	Name string `json:"name"`
	// Value is the expression that gives the value. Characters other than
	// letters, digits and underscores are replaced by underscores.
	Value string `json:"value"`
	// DataType is STRING (default), INTEGER or TIMESTAMP.
	DataType string `json:"data_type,omitempty"`
}
