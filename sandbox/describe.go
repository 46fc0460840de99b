package sandbox

import "encoding/json"

// conversionTypeOf returns the event's conversion type, if it has a string one.
func conversionTypeOf(ev map[string]any, a api) string {
	if a == apiV1 {
		s, _ := ev["eventType"].(string)
		return s
	}
	d, _ := ev["eventDescription"].(map[string]any)
	s, _ := d["conversionType"].(string)
	return s
}

// describeV2 fills r's summary fields from a v2 event, however malformed.
func describeV2(r *Received, ev map[string]any) {
	d, _ := ev["eventDescription"].(map[string]any)
	r.Name, _ = d["name"].(string)
	r.ConversionType = conversionTypeOf(ev, apiV2)
	r.EventID, _ = ev["eventId"].(string)
	describeCommon(r, ev)
}

// describeV1 fills r's summary fields from a v1 event, however malformed.
func describeV1(r *Received, ev map[string]any) {
	r.Name, _ = ev["name"].(string)
	r.ConversionType = conversionTypeOf(ev, apiV1)
	r.EventID, _ = ev["clientDedupeId"].(string)
	describeCommon(r, ev)
}

// describeCommon takes value, currency and the match keys' types (never
// their values).
func describeCommon(r *Received, ev map[string]any) {
	r.Currency, _ = ev["currencyCode"].(string)
	if n, ok := ev["value"].(json.Number); ok {
		if f, err := n.Float64(); err == nil {
			r.Value = &f
		}
	}
	keys, _ := ev["matchKeys"].([]any)
	r.MatchKeyTypes = []string{}
	for _, k := range keys {
		m, _ := k.(map[string]any)
		t, _ := m["type"].(string)
		r.MatchKeyTypes = append(r.MatchKeyTypes, t)
	}
}
