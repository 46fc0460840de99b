package amazon

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
	// MatchKeys are as in v2.
	MatchKeys []MatchKey `json:"matchKeys"`
	// Value is the conversion value.
	Value *float64 `json:"value,omitempty"`
	// CurrencyCode is the ISO-4217 currency.
	CurrencyCode string `json:"currencyCode,omitempty"`
	// UnitsSold is the number of items bought.
	UnitsSold *int64 `json:"unitsSold,omitempty"`
	// CustomAttributes is the v2 customData.
	CustomAttributes []CustomData `json:"customAttributes,omitempty"`
	// DataProcessingOptions is the array form: ["LIMITED_DATA_USE"].
	DataProcessingOptions []string `json:"dataProcessingOptions,omitempty"`
	// Consent is as in v2.
	Consent *Consent `json:"consent,omitempty"`
}

// ToV1 converts an event to the legacy v1 shape, following the renames Amazon
// documents between the two generations.
func (e *Event) ToV1() V1Event {
	v := V1Event{
		Name:              e.EventDescription.Name,
		EventType:         e.EventDescription.ConversionType,
		EventActionSource: e.EventDescription.EventSource,
		CountryCode:       e.CountryCode,
		Timestamp:         e.EventTime,
		ClientDedupeID:    e.EventID,
		MatchKeys:         e.MatchKeys,
		Value:             e.Value,
		CurrencyCode:      e.CurrencyCode,
		UnitsSold:         e.UnitsSold,
		CustomAttributes:  e.CustomData,
		Consent:           e.Consent,
	}
	if e.DataProcessingOptions != nil && e.DataProcessingOptions.Options != "" {
		v.DataProcessingOptions = []string{e.DataProcessingOptions.Options}
	}
	return v
}
