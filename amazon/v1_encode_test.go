package amazon_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

const hashed = "8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eeeb428407d43b52d"

var at = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func purchase() amazon.Event {
	value, units := 12.5, int64(2)
	return amazon.Event{
		EventDescription: amazon.EventDescription{Name: "order", ConversionType: "OFF_AMAZON_PURCHASES", EventSource: "WEBSITE", EventIngestionMethod: amazon.IngestionServerToServer},
		EventTime:        at.Add(-time.Hour).Format(time.RFC3339),
		EventID:          "o-1",
		CountryCode:      "US",
		MatchKeys:        []amazon.MatchKey{{Type: "EMAIL", Values: []string{hashed}}},
		Value:            &value,
		CurrencyCode:     "USD",
		UnitsSold:        &units,
	}
}

// checkV1 validates v as the sandbox's v1 endpoint would.
func checkV1(t *testing.T, v amazon.V1Event) sandbox.Received {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return sandbox.Check(raw, "v1", at)
}

func TestV1CustomDataTypes(t *testing.T) {
	e := purchase()
	e.CustomData = []amazon.CustomData{
		{Name: "brand", Value: "acme"},
		{Name: "color", DataType: "STRING", Value: "red"},
		{Name: "cents", DataType: "INTEGER", Value: "1299"},
		{Name: "shipped", DataType: "TIMESTAMP", Value: "1764072000"},
		{Name: "ordered", DataType: "TIMESTAMP", Value: "2025-11-25T12:00:00Z"},
	}
	v, notes := e.ToV1Notes()
	want := []amazon.V1CustomAttribute{
		{Name: "brand", Value: "acme"},
		{Name: "color", DataType: "STRING", Value: "red"},
		{Name: "cents", DataType: "NUMBER", Value: "1299"},
		{Name: "shipped", DataType: "NUMBER", Value: "1764072000"},
		{Name: "ordered", DataType: "NUMBER", Value: "1764072000"},
	}
	if fmt.Sprint(v.CustomAttributes) != fmt.Sprint(want) || len(notes) != 0 {
		t.Errorf("attributes %v notes %v, want %v", v.CustomAttributes, notes, want)
	}
	if rec := checkV1(t, v); !rec.Accepted {
		t.Errorf("the sandbox's v1 refuses it: %v", rec.Errors)
	}
	raw, _ := json.Marshal(v)
	if !strings.Contains(string(raw), `"customAttributes":[{"name":"brand","value":"acme"},`) || strings.Contains(string(raw), "customData") {
		t.Errorf("wire %s", raw)
	}
}

func TestV1TimestampThatIsNeitherEpochNorRFC3339IsSentWithANote(t *testing.T) {
	e := purchase()
	e.CustomData = []amazon.CustomData{{Name: "when", DataType: "TIMESTAMP", Value: "yesterday"}}
	v, notes := e.ToV1Notes()
	if v.CustomAttributes[0] != (amazon.V1CustomAttribute{Name: "when", DataType: "NUMBER", Value: "yesterday"}) || len(notes) != 1 {
		t.Errorf("%v %v", v.CustomAttributes, notes)
	}
}

func TestV1DropsMatchKeyTypesItLacksAndKeepsEleven(t *testing.T) {
	e := purchase()
	e.MatchKeys = []amazon.MatchKey{
		{Type: "FIP", Values: []string{"203.0.113.7"}},
		{Type: "REAL_ID", Values: []string{"r"}},
		{Type: "MERKLE_ID", Values: []string{"m"}},
		{Type: "KANTAR_ID", Values: []string{"k"}},
	}
	for _, typ := range []string{"EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "CITY", "STATE", "POSTAL", "MAID", "RAMP_ID", "MATCH_ID", "EMAIL"} {
		value := hashed
		if typ == "MAID" || typ == "RAMP_ID" || typ == "MATCH_ID" {
			value = "id-" + typ
		}
		e.MatchKeys = append(e.MatchKeys, amazon.MatchKey{Type: typ, Values: []string{value}})
	}
	v, notes := e.ToV1Notes()
	var types []string
	for _, k := range v.MatchKeys {
		types = append(types, k.Type)
	}
	if strings.Join(types, ",") != "EMAIL,PHONE,FIRST_NAME,LAST_NAME,ADDRESS,CITY,STATE,POSTAL,MAID,RAMP_ID,MATCH_ID" {
		t.Errorf("kept %v", types)
	}
	if len(notes) != 5 || !strings.Contains(strings.Join(notes, "\n"), "FIP match key was left out") {
		t.Errorf("notes %q", notes)
	}
	for _, n := range notes {
		if strings.Contains(n, "203.0.113.7") || strings.Contains(n, hashed) {
			t.Errorf("a note quotes a match-key value: %q", n)
		}
	}
	if rec := checkV1(t, v); !rec.Accepted {
		t.Errorf("the sandbox's v1 refuses it: %v", rec.Errors)
	}
}

func TestV1EventWithOnlyKeysV1LacksIsRefused(t *testing.T) {
	e := purchase()
	e.MatchKeys = []amazon.MatchKey{{Type: "FIP", Values: []string{"203.0.113.7"}}}
	v, notes := e.ToV1Notes()
	raw, _ := json.Marshal(v)
	if !strings.Contains(string(raw), `"matchKeys":[]`) || len(notes) != 2 {
		t.Errorf("%s %q", raw, notes)
	}
	if rec := checkV1(t, v); rec.Accepted {
		t.Error("the sandbox accepts a v1 event without match keys")
	}
}

func TestV1MeasurementPartnerSourceIsPassedThroughAndRefused(t *testing.T) {
	e := purchase()
	e.EventDescription.EventSource = "MEASUREMENT_ATTRIBUTION_PARTNER"
	v, notes := e.ToV1Notes()
	if v.EventActionSource != "MEASUREMENT_ATTRIBUTION_PARTNER" || len(notes) != 1 || !strings.Contains(notes[0], "api v2") {
		t.Errorf("%q %q", v.EventActionSource, notes)
	}
	if rec := checkV1(t, v); rec.Accepted {
		t.Error("the sandbox's v1 accepts MEASUREMENT_ATTRIBUTION_PARTNER")
	}
}

func TestV1EverySourceAndTypeV1HasPassesUnchanged(t *testing.T) {
	for _, source := range amazon.EventSources.Values() {
		for _, typ := range amazon.ConversionTypes.Values() {
			e := purchase()
			e.EventDescription.EventSource, e.EventDescription.ConversionType = source, typ
			v, notes := e.ToV1Notes()
			if v.EventActionSource != source || v.EventType != typ {
				t.Errorf("%s/%s became %s/%s", source, typ, v.EventActionSource, v.EventType)
			}
			rec := checkV1(t, v)
			if partner := source == "MEASUREMENT_ATTRIBUTION_PARTNER"; rec.Accepted == partner || (len(notes) != 0) != partner {
				t.Errorf("%s/%s: accepted %v, errors %v, notes %q", source, typ, rec.Accepted, rec.Errors, notes)
			}
		}
	}
}

func TestV1CurrencyAndUnitsGoWithPurchasesOnly(t *testing.T) {
	e := purchase()
	e.EventDescription.ConversionType = "PAGE_VIEW"
	v, notes := e.ToV1Notes()
	if v.CurrencyCode != "" || v.UnitsSold != nil || v.Value == nil || len(notes) != 0 {
		t.Errorf("%+v %q", v, notes)
	}
	pe := purchase()
	p, _ := pe.ToV1Notes()
	if p.CurrencyCode != "USD" || p.UnitsSold == nil || *p.UnitsSold != 2 {
		t.Errorf("purchase %+v", p)
	}
}

func TestV1CurrencyV1LacksIsPassedThroughWithANote(t *testing.T) {
	e := purchase()
	e.CurrencyCode = "CHF"
	v, notes := e.ToV1Notes()
	if v.CurrencyCode != "CHF" || len(notes) != 1 || !strings.Contains(notes[0], "CHF") {
		t.Errorf("%q %q", v.CurrencyCode, notes)
	}
	if rec := checkV1(t, v); rec.Accepted {
		t.Error("the sandbox's v1 accepts CHF")
	}
}

func TestV1RenamesAndDrops(t *testing.T) {
	e := purchase()
	e.DataProcessingOptions = &amazon.DataProcessingOptions{Options: amazon.LimitedDataUse}
	e.Consent = &amazon.Consent{TCF: "CPXxRfA"}
	e.DeviceInfo = &amazon.DeviceInfo{UserAgent: "Mozilla/5.0"}
	v, notes := e.ToV1Notes()
	raw, _ := json.Marshal(v)
	var got map[string]any
	_ = json.Unmarshal(raw, &got)
	want := map[string]any{
		"name": "order", "eventType": "OFF_AMAZON_PURCHASES", "eventActionSource": "WEBSITE", "countryCode": "US",
		"timestamp": e.EventTime, "clientDedupeId": "o-1", "value": 12.5, "currencyCode": "USD", "unitsSold": 2.0,
		"dataProcessingOptions": []any{"LIMITED_DATA_USE"}, "consent": map[string]any{"tcf": "CPXxRfA"},
		"matchKeys": []any{map[string]any{"type": "EMAIL", "values": []any{hashed}}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("wire\n%v\nwant\n%v", got, want)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "userAgent") || strings.Contains(notes[0], "Mozilla") {
		t.Errorf("notes %q", notes)
	}
	if plain, _ := json.Marshal(e.ToV1()); string(plain) != string(raw) {
		t.Errorf("ToV1 %s, ToV1Notes %s", plain, raw)
	}
	if rec := checkV1(t, v); !rec.Accepted {
		t.Errorf("the sandbox's v1 refuses it: %v", rec.Errors)
	}
}
