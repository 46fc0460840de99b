package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// verdict sends one event on the v2 or v1 path of s and returns its
// errors as "CODE fieldLocation" (v2) or "TYPE fieldLocation" (v1: the
// location is the message's prefix); nil means accepted.
func verdict(t *testing.T, s *Server, api string, e map[string]any) []string {
	t.Helper()
	req := v2(e)
	if api == "v1" {
		req = v1(e)
	}
	got := req.do(t, s)
	if got.status != 207 {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	var out []string
	for _, idx := range []int{0, 1} {
		for _, err := range got.errorsAt()[idx] {
			if code, rest, ok := strings.Cut(err, " "); ok && api == "v1" {
				loc, _, _ := strings.Cut(rest, ":")
				err = code + " " + loc
			}
			out = append(out, err)
		}
	}
	return out
}

type ruleCase struct {
	name   string
	api    string // "v2" or "v1"
	cfg    Config
	change func(map[string]any)
	want   string // "" accepted, else the one "CODE field" error, field relative to the event
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.api+" "+c.name, func(t *testing.T) {
			e := v2Event("e")
			prefix := "events[0]."
			if c.api == "v1" {
				e, prefix = v1Event("e"), "eventData[0]." // fieldLocation is 0-based even in v1
			}
			c.change(e)
			got := verdict(t, newSandbox(c.cfg), c.api, e)
			switch {
			case c.want == "" && len(got) != 0:
				t.Errorf("refused: %v", got)
			case c.want != "":
				code, field, _ := strings.Cut(c.want, " ")
				if want := code + " " + prefix + field; len(got) != 1 || got[0] != want {
					t.Errorf("errors %v, want exactly %q", got, want)
				}
			}
		})
	}
}

// TestV1AppliesV1Rules: issue "Match like Amazon" item 5, v1's narrower
// enums, custom attribute types and limits on POST /events/v1.
func TestV1AppliesV1Rules(t *testing.T) {
	set := func(k string, v any) func(map[string]any) { return func(e map[string]any) { e[k] = v } }
	custom := func(attrs ...map[string]any) func(map[string]any) {
		return func(e map[string]any) {
			l := make([]any, len(attrs))
			for i, a := range attrs {
				l[i] = a
			}
			e["customAttributes"] = l
		}
	}
	runRuleCases(t, []ruleCase{
		{"every v1 source", "v1", Config{}, set("eventActionSource", "FIRE_TV"), ""},
		{"measurement partner source", "v1", Config{}, set("eventActionSource", "MEASUREMENT_ATTRIBUTION_PARTNER"), "FIELD_VALUE_IS_INVALID eventActionSource"},
		{"lowercase source", "v1", Config{}, set("eventActionSource", "website"), "FIELD_VALUE_IS_INVALID eventActionSource"},
		{"FIP key", "v1", Config{}, set("matchKeys", []any{key("EMAIL", hashedEmail), key("FIP", "203.0.113.7")}), "FIELD_VALUE_IS_INVALID matchKeys[1].type"},
		{"REAL_ID key", "v1", Config{}, set("matchKeys", []any{key("REAL_ID", "r1")}), "FIELD_VALUE_IS_INVALID matchKeys[0].type"},
		{"11 keys", "v1", Config{}, set("matchKeys", repeatKeys(11)), ""},
		{"12 keys", "v1", Config{}, set("matchKeys", append(repeatKeys(11), key("EMAIL", hashedEmail))), "FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT matchKeys"},
		{"v1 currency", "v1", Config{}, set("currencyCode", "NZD"), ""},
		{"currency v1 lacks", "v1", Config{}, set("currencyCode", "CHF"), "FIELD_VALUE_IS_INVALID currencyCode"},
		{"NUMBER attribute", "v1", Config{}, custom(map[string]any{"name": "cents", "value": "12.5", "dataType": "NUMBER"}), ""},
		{"BOOLEAN attribute", "v1", Config{}, custom(map[string]any{"name": "member", "value": "true", "dataType": "BOOLEAN"}), ""},
		{"INTEGER attribute", "v1", Config{}, custom(map[string]any{"name": "cents", "value": "12", "dataType": "INTEGER"}), "FIELD_VALUE_IS_INVALID customAttributes[0].dataType"},
		{"TIMESTAMP attribute", "v1", Config{}, custom(map[string]any{"name": "at", "value": "1764072000", "dataType": "TIMESTAMP"}), "FIELD_VALUE_IS_INVALID customAttributes[0].dataType"},
		{"256 character value", "v1", Config{}, custom(map[string]any{"name": "note", "value": strings.Repeat("é", 256)}), ""},
		{"257 character value", "v1", Config{}, custom(map[string]any{"name": "note", "value": strings.Repeat("a", 257)}), "FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT customAttributes[0].value"},
		{"14 attributes", "v1", Config{}, func(e map[string]any) { e["customAttributes"] = repeatCustom(14) }, "FIELD_SIZE_IS_ABOVE_MAXIMUM_LIMIT customAttributes"},
		{"impression and click ids", "v1", Config{}, func(e map[string]any) { e["amazonImpressionId"] = "i"; e["amazonClickId"] = "c" }, ""},
		{"v2 custom name", "v1", Config{}, func(e map[string]any) {
			delete(e, "customAttributes")
			e["customData"] = []any{map[string]any{"name": "brand", "value": "acme"}}
		}, ""}, // an unknown field is not refused: no source says Amazon does
		{"v2 time name", "v1", Config{}, func(e map[string]any) { e["eventTime"] = e["timestamp"]; delete(e, "timestamp") }, "FIELD_VALUE_IS_NULL timestamp"},
		// The same values on v2, where they are allowed.
		{"measurement partner source", "v2", Config{}, func(e map[string]any) { desc(e)["eventSource"] = "MEASUREMENT_ATTRIBUTION_PARTNER" }, ""},
		{"CHF", "v2", Config{}, set("currencyCode", "CHF"), ""},
		{"15 keys", "v2", Config{}, set("matchKeys", repeatKeys(15)), ""},
		{"NUMBER custom data", "v2", Config{}, set("customData", []any{map[string]any{"name": "n", "value": "1", "dataType": "NUMBER"}}), "FIELD_VALUE_IS_INVALID customData[0].dataType"},
	})
}

// TestEventRulesOfMatchLikeAmazon: issue "Match like Amazon" item 7.
func TestEventRulesOfMatchLikeAmazon(t *testing.T) {
	eventTime := func(s string) func(map[string]any) { return func(e map[string]any) { e["eventTime"] = s } }
	set := func(k string, v any) func(map[string]any) { return func(e map[string]any) { e[k] = v } }
	hour := now.Add(-time.Hour)
	noConsent := func(e map[string]any) { delete(e, "consent") }
	eu := Config{Region: "EU"}
	runRuleCases(t, []ruleCase{
		// eventTime: RFC 3339 date-time.
		{"lowercase t and z", "v2", Config{}, eventTime(strings.ToLower(hour.Format(time.RFC3339))), ""},
		{"no fraction, offset", "v2", Config{}, eventTime(hour.In(time.FixedZone("", -5*3600)).Format(time.RFC3339)), ""},
		{"comma fraction", "v2", Config{}, eventTime(hour.Format("2006-01-02T15:04:05") + ",5Z"), "FIELD_VALUE_IS_INVALID eventTime"},
		{"offset without colon", "v2", Config{}, eventTime(hour.Format("2006-01-02T15:04:05-0700")), "FIELD_VALUE_IS_INVALID eventTime"},
		{"no offset", "v2", Config{}, eventTime(hour.Format("2006-01-02T15:04:05")), "FIELD_VALUE_IS_INVALID eventTime"},
		{"date only", "v2", Config{}, eventTime(hour.Format(time.DateOnly)), "FIELD_VALUE_IS_INVALID eventTime"},
		{"month 13", "v2", Config{}, eventTime("2026-13-01T00:00:00Z"), "FIELD_VALUE_IS_INVALID eventTime"},
		{"a day ahead", "v2", Config{}, eventTime(now.Add(24 * time.Hour).Format(time.RFC3339)), "FIELD_VALUE_IS_OUT_OF_RANGE eventTime"}, // past amazon.MaxEventTimeAhead
		{"comma fraction", "v1", Config{}, func(e map[string]any) { e["timestamp"] = hour.Format("2006-01-02T15:04:05") + ",5Z" }, "FIELD_VALUE_IS_INVALID timestamp"},
		// unitsSold: not negative; on other types accepted (the schema's
		// "Only applicable for OFF_AMAZON_PURCHASES" is not a refusal).
		{"negative units", "v2", Config{}, set("unitsSold", json.Number("-1")), "FIELD_VALUE_IS_BELOW_MINIMUM_LIMIT unitsSold"},
		{"negative units", "v1", Config{}, set("unitsSold", json.Number("-2")), "FIELD_VALUE_IS_BELOW_MINIMUM_LIMIT unitsSold"},
		{"zero units", "v2", Config{}, set("unitsSold", json.Number("0")), ""},
		{"units and currency on a page view", "v2", Config{}, func(e map[string]any) {
			desc(e)["conversionType"] = "PAGE_VIEW"
			e["unitsSold"] = json.Number("3")
		}, ""},
		{"units and currency on a lead", "v1", Config{}, set("eventType", "LEAD"), ""},
		// A purchase needs its currency (see purchaseCurrency).
		{"purchase without currency", "v2", Config{}, func(e map[string]any) { delete(e, "currencyCode") }, "FIELD_VALUE_IS_NULL currencyCode"},
		{"purchase without currency", "v1", Config{}, func(e map[string]any) { delete(e, "currencyCode") }, "FIELD_VALUE_IS_NULL currencyCode"},
		{"sign-up without currency", "v2", Config{}, func(e map[string]any) { delete(e, "currencyCode"); desc(e)["conversionType"] = "SIGN_UP" }, ""},
		// EU consent.
		{"EU without consent", "v2", eu, noConsent, "FIELD_VALUE_IS_NULL consent"},
		{"EU without consent", "v1", eu, noConsent, "FIELD_VALUE_IS_NULL consent"},
		{"EU empty consent", "v2", eu, set("consent", map[string]any{}), "FIELD_VALUE_IS_NULL consent"},
		{"EU empty tcf", "v2", eu, set("consent", map[string]any{"tcf": ""}), "FIELD_VALUE_IS_NULL consent"},
		{"EU tcf", "v2", eu, set("consent", map[string]any{"tcf": "CPXxRfAPXxRfAAfKABENB"}), ""},
		{"EU gpp", "v1", eu, set("consent", map[string]any{"gpp": "DBABMA~CPXxRfA"}), ""},
		{"EU geo", "v2", eu, set("consent", map[string]any{"geo": map[string]any{"ipAddress": "2001:db8::1"}}), ""},
		{"EU consent not an object", "v2", eu, set("consent", "GRANTED"), "FIELD_VALUE_IS_INVALID consent"},
		{"NA without consent", "v2", Config{Region: "na"}, noConsent, ""},
		{"default region without consent", "v1", Config{}, noConsent, ""},
		// arefMeasurementTokens.
		{"two aref pairs", "v2", Config{}, set("arefMeasurementTokens", "abcdefghij.1764072000000|ABCDE12345.1764072000001"), ""},
		{"aref token of 9", "v2", Config{}, set("arefMeasurementTokens", "abcdefghi.1764072000000"), "FIELD_VALUE_IS_INVALID arefMeasurementTokens"},
		{"aref seconds", "v2", Config{}, set("arefMeasurementTokens", "abcdefghij.1764072000"), "FIELD_VALUE_IS_INVALID arefMeasurementTokens"},
		{"aref trailing pipe", "v2", Config{}, set("arefMeasurementTokens", "abcdefghij.1764072000000|"), "FIELD_VALUE_IS_INVALID arefMeasurementTokens"},
		{"aref underscore", "v2", Config{}, set("arefMeasurementTokens", "abcde_ghij.1764072000000"), "FIELD_VALUE_IS_INVALID arefMeasurementTokens"},
		{"aref comma list", "v2", Config{}, set("arefMeasurementTokens", "abcdefghij.1764072000000,ABCDE12345.1764072000001"), "FIELD_VALUE_IS_INVALID arefMeasurementTokens"},
		{"aref not a string", "v2", Config{}, set("arefMeasurementTokens", []any{"abcdefghij.1764072000000"}), "FIELD_VALUE_IS_INVALID arefMeasurementTokens"},
		// eventDescription.dataSetName.
		{"Amazon's sample data set", "v2", Config{}, func(e map[string]any) { desc(e)["dataSetName"] = "dataset_1211" }, ""},
		{"data set of 5", "v2", Config{}, func(e map[string]any) { desc(e)["dataSetName"] = "a-b_c" }, ""},
		{"data set of 4", "v2", Config{}, func(e map[string]any) { desc(e)["dataSetName"] = "abcd" }, "FIELD_SIZE_IS_OUT_OF_RANGE eventDescription.dataSetName"},
		{"data set of 100", "v2", Config{}, func(e map[string]any) { desc(e)["dataSetName"] = "d" + strings.Repeat("x", 99) }, ""},
		{"data set of 101", "v2", Config{}, func(e map[string]any) { desc(e)["dataSetName"] = "d" + strings.Repeat("x", 100) }, "FIELD_SIZE_IS_OUT_OF_RANGE eventDescription.dataSetName"},
		{"data set with a dot", "v2", Config{}, func(e map[string]any) { desc(e)["dataSetName"] = "shop.events" }, "FIELD_VALUE_CONTAINS_INVALID_CHARACTERS eventDescription.dataSetName"},
		// amazonAdEventKey and partner: strings, no other rule.
		{"ad event key", "v2", Config{}, set("amazonAdEventKey", "any thing/at+all"), ""},
		{"ad event key number", "v2", Config{}, set("amazonAdEventKey", 7), "FIELD_VALUE_IS_INVALID amazonAdEventKey"},
		{"partner object", "v2", Config{}, set("partner", map[string]any{}), "FIELD_VALUE_IS_INVALID partner"},
		// customData INTEGER is a 32-bit signed integer.
		{"INTEGER above int32", "v2", Config{}, set("customData", []any{map[string]any{"name": "n", "value": "2147483648", "dataType": "INTEGER"}}), "FIELD_VALUE_IS_INVALID customData[0].value"},
		{"INTEGER letters", "v2", Config{}, set("customData", []any{map[string]any{"name": "n", "value": "twelve", "dataType": "INTEGER"}}), "FIELD_VALUE_IS_INVALID customData[0].value"},
		{"TIMESTAMP epoch", "v2", Config{}, set("customData", []any{map[string]any{"name": "at", "value": "1764072000", "dataType": "TIMESTAMP"}}), ""},
	})
}

func TestRegionIsCaseInsensitive(t *testing.T) {
	for _, r := range []string{"eu", "EU", " Eu "} {
		e := v2Event("x")
		delete(e, "consent")
		if got := verdict(t, newSandbox(Config{Region: r}), "v2", e); fmt.Sprint(got) != "[FIELD_VALUE_IS_NULL events[0].consent]" {
			t.Errorf("region %q: %v", r, got)
		}
	}
}

func TestArefErrorsDoNotQuoteTheTokens(t *testing.T) {
	s := newSandbox(Config{})
	e := v2Event("x")
	e["arefMeasurementTokens"] = "SECRETTOKN.123"
	got := v2(e).do(t, s)
	if len(got.indexes("error")) != 1 || strings.Contains(string(got.raw), "SECRETTOKN") {
		t.Errorf("the error quotes the token: %s", got.raw)
	}
}
