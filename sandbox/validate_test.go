package sandbox

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidV2BatchIsAllSuccess(t *testing.T) {
	s := newSandbox(Config{})
	events := []map[string]any{v2Event("a"), v2Event("b"), v2Event("c")}
	got := v2(events...).do(t, s)
	if got.status != 207 || !equalInts(got.indexes("success"), []int{0, 1, 2}) || len(got.indexes("error")) != 0 {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	first := got.body["success"].([]any)[0].(map[string]any)
	var sent map[string]any
	raw, _ := json.Marshal(events[int(first["index"].(float64))])
	_ = json.Unmarshal(raw, &sent)
	if !reflect.DeepEqual(first["event"], sent) {
		t.Errorf("success event %v, want the event as sent %v", first["event"], sent)
	}
	if st := s.Stats(); st != (Stats{Requests: 1, Events: 3, Accepted: 3}) {
		t.Errorf("stats %+v", st)
	}
	rec := s.Received()[0]
	if rec.API != "v2" || rec.Index != 2 || rec.EventID != "c" || rec.Name != "purchase" || rec.ConversionType != "OFF_AMAZON_PURCHASES" ||
		!rec.Accepted || strings.Join(rec.MatchKeyTypes, ",") != "EMAIL,FIP" || *rec.Value != 129.95 || rec.Currency != "USD" || !rec.Time.Equal(now) {
		t.Errorf("received %+v", rec)
	}
}

func TestValidV2VariantsAreAccepted(t *testing.T) {
	cases := map[string]func(e map[string]any){
		"minimal": func(e map[string]any) {
			for _, k := range []string{"eventId", "value", "customData", "consent"} {
				delete(e, k)
			}
		},
		"integer value":         func(e map[string]any) { e["value"] = json.Number("10") },
		"exponent value":        func(e map[string]any) { e["value"] = json.Number("1.25e1") },
		"trailing zero":         func(e map[string]any) { e["value"] = json.Number("1.100") },
		"negative non-purchase": func(e map[string]any) { desc(e)["conversionType"] = "PAGE_VIEW"; e["value"] = json.Number("-3.5") },
		"units sold max":        func(e map[string]any) { e["unitsSold"] = json.Number("2147483647") },
		"ipv6 FIP":              func(e map[string]any) { e["matchKeys"] = []any{key("FIP", "2001:db8::1")} },
		"match id 100":          func(e map[string]any) { e["matchKeys"] = []any{key("MATCH_ID", strings.Repeat("m", 100))} },
		"15 match keys":         func(e map[string]any) { e["matchKeys"] = repeatKeys(15) },
		"13 custom data":        func(e map[string]any) { e["customData"] = repeatCustom(13) },
		"custom integer": func(e map[string]any) {
			e["customData"] = []any{map[string]any{"name": "cents", "value": "1299", "dataType": "INTEGER"}}
		},
		"data set name":    func(e map[string]any) { desc(e)["dataSetName"] = "shop-events_2" },
		"limited data use": func(e map[string]any) { e["dataProcessingOptions"] = map[string]any{"options": "LIMITED_DATA_USE"} },
		"empty options":    func(e map[string]any) { e["dataProcessingOptions"] = map[string]any{} },
		"tcf and gpp": func(e map[string]any) {
			e["consent"] = map[string]any{"tcf": "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", "gpp": "DBABMA~CPXxRfA"}
		},
		"ad storage denied": func(e map[string]any) {
			e["consent"] = map[string]any{"amazonConsent": map[string]any{"amznUserData": "DENIED", "amznAdStorage": "DENIED"}}
		},
		"almost 21 days old": func(e map[string]any) { e["eventTime"] = now.Add(-21*24*time.Hour + time.Minute).Format(time.RFC3339) },
		// No source limits how far ahead eventTime may be; the module
		// refuses more than amazon.MaxEventTimeAhead, and so does the
		// sandbox.
		"14 minutes ahead": func(e map[string]any) { e["eventTime"] = now.Add(14 * time.Minute).Format(time.RFC3339) },
		"millis and offset": func(e map[string]any) {
			e["eventTime"] = now.In(time.FixedZone("", 7200)).Format("2006-01-02T15:04:05.000-07:00")
		},
		"user agent 512": func(e map[string]any) { e["deviceInfo"] = map[string]any{"userAgent": strings.Repeat("é", 512)} },
		"optional strings": func(e map[string]any) {
			e["partner"] = "shopsignal"
			e["amazonAdEventKey"] = "k"
			e["arefMeasurementTokens"] = "abcdefghij.1764072000000"
		},
		"other conversion source": func(e map[string]any) { desc(e)["conversionType"] = "SIGN_UP"; desc(e)["eventSource"] = "OFFLINE" },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			e := v2Event("ok")
			change(e)
			got := v2(e).do(t, newSandbox(Config{}))
			if got.status != 207 || !equalInts(got.indexes("success"), []int{0}) {
				t.Errorf("%d %v", got.status, got.errorsAt())
			}
		})
	}
}

func desc(e map[string]any) map[string]any { return e["eventDescription"].(map[string]any) }

// repeatKeys returns n valid match keys of assorted types.
func repeatKeys(n int) []any {
	types := []string{"EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "CITY", "STATE", "POSTAL", "MAID", "RAMP_ID", "MATCH_ID", "REAL_ID", "MERKLE_ID", "KANTAR_ID", "FIP"}
	out := make([]any, n)
	for i := range out {
		typ := types[i%len(types)]
		switch {
		case hashedTypes[typ]:
			out[i] = key(typ, hashedEmail)
		case typ == "FIP":
			out[i] = key(typ, "198.51.100.1")
		default:
			out[i] = key(typ, "id_"+typ)
		}
	}
	return out
}

func repeatCustom(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"name": fmt.Sprintf("attr_%d", i), "value": "v"}
	}
	return out
}

func TestBadV2EventIsRejectedAtItsIndex(t *testing.T) {
	cases := []struct {
		name   string
		change func(map[string]any)
		want   []string // "CODE fieldLocation", each must be listed for events[1]
	}{
		{"unhashed email", func(e map[string]any) { e["matchKeys"] = []any{key("EMAIL", "jane@example.com")} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"}},
		{"uppercase hex", func(e map[string]any) { e["matchKeys"] = []any{key("PHONE", strings.ToUpper(hashedEmail))} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"}},
		{"short hex", func(e map[string]any) {
			e["matchKeys"] = []any{key("FIP", "203.0.113.7"), key("POSTAL", hashedEmail[:63])}
		},
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[1].values[0]"}},
		{"raw name", func(e map[string]any) { e["matchKeys"] = []any{key("FIRST_NAME", "jane")} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"}},
		{"bad FIP", func(e map[string]any) { e["matchKeys"] = []any{key("FIP", "203.0.113")} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"}},
		{"FIP with zone", func(e map[string]any) { e["matchKeys"] = []any{key("FIP", "fe80::1%eth0")} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"}},
		{"long MATCH_ID", func(e map[string]any) { e["matchKeys"] = []any{key("MATCH_ID", strings.Repeat("m", 101))} },
			[]string{"FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT events[1].matchKeys[0].values[0]"}},
		{"empty MAID", func(e map[string]any) { e["matchKeys"] = []any{key("MAID", "")} },
			[]string{"FIELD_VALUE_IS_EMPTY events[1].matchKeys[0].values[0]"}},
		{"number value", func(e map[string]any) { e["matchKeys"] = []any{key("REAL_ID", 5)} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[0].values[0]"}},
		{"two values", func(e map[string]any) { e["matchKeys"] = []any{key("MAID", "a", "b")} },
			[]string{"FIELD_SIZE_IS_OUT_OF_RANGE events[1].matchKeys[0].values"}},
		{"no values", func(e map[string]any) { e["matchKeys"] = []any{map[string]any{"type": "MAID"}} },
			[]string{"FIELD_VALUE_IS_NULL events[1].matchKeys[0].values"}},
		{"bad key type", func(e map[string]any) { e["matchKeys"] = []any{key("IDFA", "x")} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[0].type"}},
		{"key not object", func(e map[string]any) { e["matchKeys"] = []any{"EMAIL"} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys[0]"}},
		{"no match keys", func(e map[string]any) { e["matchKeys"] = []any{} },
			[]string{"FIELD_SIZE_IS_BELOW_MINIMUM_LIMIT events[1].matchKeys"}},
		{"16 match keys", func(e map[string]any) { e["matchKeys"] = repeatKeys(16) },
			[]string{"FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT events[1].matchKeys"}},
		{"match keys missing", func(e map[string]any) { delete(e, "matchKeys") },
			[]string{"FIELD_VALUE_IS_NULL events[1].matchKeys"}},
		{"match keys object", func(e map[string]any) { e["matchKeys"] = key("EMAIL", hashedEmail) },
			[]string{"FIELD_VALUE_IS_INVALID events[1].matchKeys"}},
		{"missing description", func(e map[string]any) { delete(e, "eventDescription") },
			[]string{"FIELD_VALUE_IS_NULL events[1].eventDescription"}},
		{"empty description", func(e map[string]any) { e["eventDescription"] = map[string]any{} },
			[]string{"FIELD_VALUE_IS_NULL events[1].eventDescription.name", "FIELD_VALUE_IS_NULL events[1].eventDescription.conversionType",
				"FIELD_VALUE_IS_NULL events[1].eventDescription.eventSource", "FIELD_VALUE_IS_NULL events[1].eventDescription.eventIngestionMethod"}},
		{"empty name", func(e map[string]any) { desc(e)["name"] = "" },
			[]string{"FIELD_VALUE_IS_EMPTY events[1].eventDescription.name"}},
		{"bad conversion type", func(e map[string]any) { desc(e)["conversionType"] = "PURCHASE" },
			[]string{"FIELD_VALUE_IS_INVALID events[1].eventDescription.conversionType"}},
		{"lowercase source", func(e map[string]any) { desc(e)["eventSource"] = "website" },
			[]string{"FIELD_VALUE_IS_INVALID events[1].eventDescription.eventSource"}},
		{"browser ingestion", func(e map[string]any) { desc(e)["eventIngestionMethod"] = "BROWSER" },
			[]string{"FIELD_VALUE_IS_INVALID events[1].eventDescription.eventIngestionMethod"}},
		{"bad data set", func(e map[string]any) { desc(e)["dataSetName"] = "1st set" },
			[]string{"FIELD_VALUE_CONTAINS_INVALID_CHARACTERS events[1].eventDescription.dataSetName"}},
		{"missing country", func(e map[string]any) { delete(e, "countryCode") },
			[]string{"FIELD_VALUE_IS_NULL events[1].countryCode"}},
		{"bad country", func(e map[string]any) { e["countryCode"] = "XX" },
			[]string{"FIELD_VALUE_IS_INVALID events[1].countryCode"}},
		{"lowercase currency", func(e map[string]any) { e["currencyCode"] = "usd" },
			[]string{"FIELD_VALUE_IS_INVALID events[1].currencyCode"}},
		{"three decimals", func(e map[string]any) { e["value"] = json.Number("1.005") },
			[]string{"FIELD_VALUE_IS_INVALID events[1].value"}},
		{"small exponent", func(e map[string]any) { e["value"] = json.Number("1e-3") },
			[]string{"FIELD_VALUE_IS_INVALID events[1].value"}},
		{"huge exponent", func(e map[string]any) { e["value"] = json.Number("1e999999999") },
			[]string{"FIELD_VALUE_IS_INVALID events[1].value"}},
		{"string value", func(e map[string]any) { e["value"] = "12.50" },
			[]string{"FIELD_VALUE_IS_INVALID events[1].value"}},
		{"negative purchase", func(e map[string]any) { e["value"] = json.Number("-1") },
			[]string{"FIELD_VALUE_IS_BELOW_MINIMUM_LIMIT events[1].value"}},
		{"fractional units", func(e map[string]any) { e["unitsSold"] = json.Number("1.5") },
			[]string{"FIELD_VALUE_IS_INVALID events[1].unitsSold"}},
		{"units above int32", func(e map[string]any) { e["unitsSold"] = json.Number("2147483648") },
			[]string{"FIELD_VALUE_IS_OUT_OF_RANGE events[1].unitsSold"}},
		{"missing time", func(e map[string]any) { delete(e, "eventTime") },
			[]string{"FIELD_VALUE_IS_NULL events[1].eventTime"}},
		{"too old", func(e map[string]any) { e["eventTime"] = now.Add(-21*24*time.Hour - time.Minute).Format(time.RFC3339) },
			[]string{"DATE_CANNOT_BE_IN_PAST events[1].eventTime"}},
		{"far in the future", func(e map[string]any) { e["eventTime"] = "9999-12-31T23:59:59Z" },
			[]string{"FIELD_VALUE_IS_OUT_OF_RANGE events[1].eventTime"}},
		{"just past the skew", func(e map[string]any) { e["eventTime"] = now.Add(16 * time.Minute).Format(time.RFC3339) },
			[]string{"FIELD_VALUE_IS_OUT_OF_RANGE events[1].eventTime"}},
		{"not a date-time", func(e map[string]any) { e["eventTime"] = "2026-11-25 11:00:00" },
			[]string{"FIELD_VALUE_IS_INVALID events[1].eventTime"}},
		{"epoch time", func(e map[string]any) { e["eventTime"] = now.Unix() },
			[]string{"FIELD_VALUE_IS_INVALID events[1].eventTime"}},
		{"event id number", func(e map[string]any) { e["eventId"] = 42 },
			[]string{"FIELD_VALUE_IS_INVALID events[1].eventId"}},
		{"custom chars", func(e map[string]any) { e["customData"] = []any{map[string]any{"name": "brand", "value": "Acme Co."}} },
			[]string{"FIELD_VALUE_CONTAINS_INVALID_CHARACTERS events[1].customData[0].value"}},
		{"custom name chars", func(e map[string]any) { e["customData"] = []any{map[string]any{"name": "product-id", "value": "x"}} },
			[]string{"FIELD_VALUE_CONTAINS_INVALID_CHARACTERS events[1].customData[0].name"}},
		{"custom missing value", func(e map[string]any) { e["customData"] = []any{map[string]any{"name": "brand"}} },
			[]string{"FIELD_VALUE_IS_NULL events[1].customData[0].value"}},
		{"custom data type", func(e map[string]any) {
			e["customData"] = []any{map[string]any{"name": "n", "value": "1", "dataType": "NUMBER"}}
		},
			[]string{"FIELD_VALUE_IS_INVALID events[1].customData[0].dataType"}},
		{"14 custom data", func(e map[string]any) { e["customData"] = repeatCustom(14) },
			[]string{"FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT events[1].customData"}},
		{"options array", func(e map[string]any) { e["dataProcessingOptions"] = []any{"LIMITED_DATA_USE"} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].dataProcessingOptions"}},
		{"bad option", func(e map[string]any) { e["dataProcessingOptions"] = map[string]any{"options": "LDU"} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].dataProcessingOptions.options"}},
		{"consent status", func(e map[string]any) {
			e["consent"] = map[string]any{"amazonConsent": map[string]any{"amznUserData": "YES"}}
		},
			[]string{"FIELD_VALUE_IS_INVALID events[1].consent.amazonConsent.amznUserData"}},
		{"consent user data missing", func(e map[string]any) {
			e["consent"] = map[string]any{"amazonConsent": map[string]any{"amznAdStorage": "GRANTED"}}
		},
			[]string{"FIELD_VALUE_IS_NULL events[1].consent.amazonConsent.amznUserData"}},
		{"ad storage status", func(e map[string]any) {
			e["consent"] = map[string]any{"amazonConsent": map[string]any{"amznUserData": "GRANTED", "amznAdStorage": "granted"}}
		}, []string{"FIELD_VALUE_IS_INVALID events[1].consent.amazonConsent.amznAdStorage"}},
		{"consent ip", func(e map[string]any) {
			e["consent"] = map[string]any{"geo": map[string]any{"ipAddress": "example.com"}}
		},
			[]string{"FIELD_VALUE_IS_INVALID events[1].consent.geo.ipAddress"}},
		{"consent geo empty", func(e map[string]any) { e["consent"] = map[string]any{"geo": map[string]any{}} },
			[]string{"FIELD_VALUE_IS_NULL events[1].consent.geo.ipAddress"}},
		{"tcf not string", func(e map[string]any) { e["consent"] = map[string]any{"tcf": true} },
			[]string{"FIELD_VALUE_IS_INVALID events[1].consent.tcf"}},
		{"long user agent", func(e map[string]any) { e["deviceInfo"] = map[string]any{"userAgent": strings.Repeat("a", 513)} },
			[]string{"FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT events[1].deviceInfo.userAgent"}},
		{"several at once", func(e map[string]any) { e["countryCode"] = "usa"; e["currencyCode"] = "$"; delete(e, "eventTime") },
			[]string{"FIELD_VALUE_IS_INVALID events[1].countryCode", "FIELD_VALUE_IS_INVALID events[1].currencyCode", "FIELD_VALUE_IS_NULL events[1].eventTime"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(Config{})
			bad := v2Event("bad")
			c.change(bad)
			got := v2(v2Event("ok1"), bad, v2Event("ok2")).do(t, s)
			if got.status != 207 || !equalInts(got.indexes("success"), []int{0, 2}) || !equalInts(got.indexes("error"), []int{1}) {
				t.Fatalf("%d success %v error %v", got.status, got.indexes("success"), got.errorsAt())
			}
			errs := got.errorsAt()[1]
			if len(errs) != len(c.want) {
				t.Errorf("errors %v, want exactly %v", errs, c.want)
			}
			for _, w := range c.want {
				if !contains(errs, w) {
					t.Errorf("errors %v lack %q", errs, w)
				}
			}
			rec := s.Received()[1]
			if rec.Index != 1 || rec.Accepted || len(rec.Errors) != len(errs) || s.Stats().Rejected != 1 {
				t.Errorf("received index %d accepted %v errors %v, stats %+v", rec.Index, rec.Accepted, rec.Errors, s.Stats())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestEachEventListsAtMostTwentyErrors(t *testing.T) {
	e := v2Event("many")
	keys := make([]any, 30)
	for i := range keys {
		keys[i] = key("EMAIL", "not-hashed")
	}
	e["matchKeys"] = keys
	got := v2(e).do(t, newSandbox(Config{}))
	errs := got.errorsAt()[0]
	if len(errs) != 20 || errs[0] != "FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT events[0].matchKeys" {
		t.Errorf("%d errors: %v", len(errs), errs)
	}
}

func TestEventsThatAreNotObjectsAreRejected(t *testing.T) {
	body := []byte(`{"events":["x",null,[],` + mustJSON(v2Event("ok")) + `]}`)
	got := call{path: pathV2, body: body}.do(t, newSandbox(Config{}))
	if got.status != 207 || !equalInts(got.indexes("success"), []int{3}) {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	for i := range 3 {
		if errs := got.errorsAt()[i]; len(errs) != 1 || errs[0] != fmt.Sprintf("FIELD_VALUE_IS_INVALID events[%d]", i) {
			t.Errorf("index %d: %v", i, errs)
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestRejectionsNeverQuoteMatchKeyValues(t *testing.T) {
	s := newSandbox(Config{})
	e := v2Event("pii")
	e["matchKeys"] = []any{key("EMAIL", "jane@example.com"), key("FIP", "jane@example.com"), key("MATCH_ID", strings.Repeat("jane@example.com", 7))}
	got := v2(e).do(t, s)
	if len(got.errorsAt()[0]) != 3 || strings.Contains(string(got.raw), "jane@") {
		t.Errorf("answer %s", got.raw)
	}
	for _, fe := range s.Received()[0].Errors {
		if strings.Contains(fe.Message, "jane@") {
			t.Errorf("message quotes the value: %+v", fe)
		}
	}
}

func TestV1UsesItsNamesOneBasedIndexesAndASevenDayWindow(t *testing.T) {
	cases := []struct {
		name   string
		change func(map[string]any)
		want   string // "" for accepted, else "errorType message-prefix"
	}{
		{"valid", func(map[string]any) {}, ""},
		{"six days old", func(e map[string]any) { e["timestamp"] = now.Add(-6 * 24 * time.Hour).Format(time.RFC3339) }, ""},
		{"eight days old", func(e map[string]any) { e["timestamp"] = now.Add(-8 * 24 * time.Hour).Format(time.RFC3339) },
			"DATE_CANNOT_BE_IN_PAST eventData[1].timestamp"},
		{"unhashed email", func(e map[string]any) { e["matchKeys"] = []any{key("EMAIL", "jane@example.com")} },
			"FIELD_VALUE_IS_INVALID eventData[1].matchKeys[0].values[0]"},
		{"bad event type", func(e map[string]any) { e["eventType"] = "PURCHASE" }, "FIELD_VALUE_IS_INVALID eventData[1].eventType"},
		{"missing source", func(e map[string]any) { delete(e, "eventActionSource") }, "FIELD_VALUE_IS_NULL eventData[1].eventActionSource"},
		{"missing name", func(e map[string]any) { delete(e, "name") }, "FIELD_VALUE_IS_NULL eventData[1].name"},
		{"v2 options form", func(e map[string]any) { e["dataProcessingOptions"] = map[string]any{"options": "LIMITED_DATA_USE"} },
			"FIELD_VALUE_IS_INVALID eventData[1].dataProcessingOptions"},
		{"bad option", func(e map[string]any) { e["dataProcessingOptions"] = []any{"LDU"} },
			"FIELD_VALUE_IS_INVALID eventData[1].dataProcessingOptions[0]"},
		// v1 restricts the characters of a custom attribute's name only
		// (Segment's v1 fields.ts); its value may hold a space.
		{"custom attribute chars", func(e map[string]any) {
			e["customAttributes"] = []any{map[string]any{"name": "brand name", "value": "a b"}}
		},
			"FIELD_VALUE_CONTAINS_INVALID_CHARACTERS eventData[1].customAttributes[0].name"},
		{"three decimals", func(e map[string]any) { e["value"] = json.Number("0.001") }, "FIELD_VALUE_IS_INVALID eventData[1].value"},
		{"v2 shape", func(e map[string]any) {
			for k := range e {
				delete(e, k)
			}
			for k, v := range v2Event("x") {
				e[k] = v
			}
		}, "FIELD_VALUE_IS_NULL eventData[1].name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(Config{})
			e := v1Event("b")
			c.change(e)
			got := v1(v1Event("a"), e).do(t, s)
			if got.status != 207 {
				t.Fatalf("%d %s", got.status, got.raw)
			}
			if c.want == "" {
				if !equalInts(got.indexes("success"), []int{1, 2}) || len(got.indexes("error")) != 0 {
					t.Errorf("%s", got.raw)
				}
				if msg := got.body["success"].([]any)[0].(map[string]any)["message"]; msg != "Success" {
					t.Errorf("success message %v", msg)
				}
				return
			}
			if !equalInts(got.indexes("success"), []int{1}) || !equalInts(got.indexes("error"), []int{2}) {
				t.Fatalf("%s", got.raw)
			}
			item := got.body["error"].([]any)[0].(map[string]any)
			sub := item["subErrors"].([]any)[0].(map[string]any)
			if item["httpStatusCode"] != "400" || sub["errorCode"] != 400.0 {
				t.Errorf("error item %v", item)
			}
			if errs := got.errorsAt()[2]; !strings.HasPrefix(errs[0], c.want+": ") {
				t.Errorf("errors %v, want first %q", errs, c.want)
			}
			if rec := s.Received()[0]; rec.API != "v1" || rec.Index != 1 || rec.Accepted {
				t.Errorf("received %+v", rec)
			}
		})
	}
}

func TestV1ReceivedSummary(t *testing.T) {
	s := newSandbox(Config{})
	v1(v1Event("dedupe-1")).do(t, s)
	rec := s.Received()[0]
	if rec.EventID != "dedupe-1" || rec.Name != "purchase" || rec.ConversionType != "OFF_AMAZON_PURCHASES" ||
		*rec.Value != 10.5 || rec.Currency != "EUR" || strings.Join(rec.MatchKeyTypes, ",") != "EMAIL" || !rec.Accepted {
		t.Errorf("%+v", rec)
	}
}
