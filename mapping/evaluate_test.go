package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const checkoutJSON = `{
  "order": {"id": "ORD-1001", "total": 129.95, "currency": "eur", "created_at": "2026-11-20T10:15:00+01:00"},
  "customer": {"email": " Jane.Doe@Example.com ", "phone": "+49 30 1234567", "first_name": "Jane"},
  "items": [{"sku": "A1", "qty": 2, "brand": "Acme Co."}, {"sku": "B2", "qty": "1"}]
}`

func checkoutRule() Rule {
	return Rule{
		Type:      "OFF_AMAZON_PURCHASES",
		Timestamp: "body.order.created_at",
		DedupeID:  "body.order.id",
		Value:     "body.order.total",
		Currency:  "body.order.currency",
		UnitsSold: "body.items.#.qty|@sum",
		Country:   "header.CF-IPCountry",
		MatchKeys: []MatchKeyRule{
			{Type: "EMAIL", Value: "body.customer.email"},
			{Type: "PHONE", Value: "body.customer.phone"},
			{Type: "FIP", Value: "request.remote_ip"},
		},
		LimitedDataUse: "header.Sec-GPC",
		ConsentTCF:     "cookie.euconsent-v2",
		Custom:         []CustomRule{{Name: "brand", Value: "body.items.0.brand"}},
	}
}

func checkoutRequest(body string) *Request {
	r := httptest.NewRequest(http.MethodPost, "/checkout?utm=x", strings.NewReader(body))
	r.Header.Set("CF-IPCountry", "de")
	r.Header.Set("Sec-GPC", "1")
	r.Header.Set("User-Agent", "Mozilla/5.0 test")
	r.AddCookie(&http.Cookie{Name: "euconsent-v2", Value: "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"})
	return &Request{HTTP: r, Body: []byte(body), RemoteIP: "203.0.113.7", Arrived: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func mustCompile(t *testing.T, r Rule) *Mapping {
	t.Helper()
	m, err := Compile("purchase", r)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEvaluateBuildsTheEventFromAJSONCheckout(t *testing.T) {
	e, err := mustCompile(t, checkoutRule()).Evaluate(checkoutRequest(checkoutJSON))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(e)
	for _, want := range []string{
		`"eventDescription":{"name":"purchase","conversionType":"OFF_AMAZON_PURCHASES","eventSource":"WEBSITE","eventIngestionMethod":"SERVER_TO_SERVER"}`,
		`"eventTime":"2026-11-20T09:15:00Z"`,
		`"eventId":"ORD-1001"`,
		`"countryCode":"DE"`,
		`"value":129.95`,
		`"currencyCode":"EUR"`,
		`"unitsSold":3`,
		`{"type":"FIP","values":["203.0.113.7"]}`,
		`"dataProcessingOptions":{"options":"LIMITED_DATA_USE"}`,
		`"tcf":"CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"`,
		`"customData":[{"name":"brand","dataType":"STRING","value":"Acme_Co"}]`,
		`"deviceInfo":{"userAgent":"Mozilla/5.0 test"}`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("event lacks %s\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "Jane") || strings.Contains(string(got), "1234567") {
		t.Errorf("raw PII in the event: %s", got)
	}
	if e.MatchKeys[0].Values[0] != referenceSHA256("jane.doe@example.com") {
		t.Errorf("email hash = %s", e.MatchKeys[0].Values[0])
	}
}

func TestEvaluateReadsFormQueryPlaceholdersAndLiterals(t *testing.T) {
	rule := Rule{
		Type:      "SIGN_UP",
		Country:   "GB",
		Value:     "query.v",
		DedupeID:  "{custom.id}",
		MatchKeys: []MatchKeyRule{{Type: "EMAIL", Value: "form.email"}, {Type: "POSTAL", Value: "form.customer[zip]"}},
		UserAgent: "-",
	}
	body := "email=a%40b.example&customer%5Bzip%5D=SW1A+1AA"
	r := httptest.NewRequest(http.MethodPost, "/signup?v=12.345", strings.NewReader(body))
	req := &Request{HTTP: r, Body: []byte(body), Placeholders: replacerFunc(func(s string) string { return strings.ReplaceAll(s, "{custom.id}", "abc") })}
	e, err := mustCompile(t, rule).Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	if e.EventID != "abc" || *e.Value != 12.35 || e.CountryCode != "GB" || e.DeviceInfo != nil {
		t.Errorf("got id %q value %v country %q device %v", e.EventID, *e.Value, e.CountryCode, e.DeviceInfo)
	}
	if e.MatchKeys[0].Values[0] != referenceSHA256("a@b.example") || e.MatchKeys[1].Values[0] != referenceSHA256("SW1A1AA") { // Amazon's GB rule keeps the case
		t.Errorf("match keys %+v", e.MatchKeys)
	}
}

func TestEvaluateGeneratesAnEventIDWhenNoneIsMapped(t *testing.T) {
	rule := checkoutRule()
	rule.DedupeID = ""
	m := mustCompile(t, rule)
	a, err1 := m.Evaluate(checkoutRequest(checkoutJSON))
	b, err2 := m.Evaluate(checkoutRequest(checkoutJSON))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a.EventID == "" || a.EventID == b.EventID {
		t.Errorf("event IDs %q and %q, want two different non-empty IDs", a.EventID, b.EventID)
	}
}

func TestEvaluateRejectsMissingOrInvalidValuesWithoutQuotingThem(t *testing.T) {
	cases := []struct {
		name, body, field string
		edit              func(*Request)
	}{
		{"no match key value", `{"order":{"id":"1","currency":"EUR"}}`, "match_key", func(r *Request) { r.RemoteIP = "" }},
		{"bad country", checkoutJSON, "country", func(r *Request) { r.HTTP.Header.Set("CF-IPCountry", "Narnia") }},
		{"missing country", checkoutJSON, "country", func(r *Request) { r.HTTP.Header.Del("CF-IPCountry") }},
		{"bad currency", strings.Replace(checkoutJSON, `"eur"`, `"euros"`, 1), "currency", nil},
		{"value not a number", strings.Replace(checkoutJSON, `129.95`, `"lots"`, 1), "value", nil},
		{"negative purchase", strings.Replace(checkoutJSON, `129.95`, `-1`, 1), "value", nil},
		{"bad time", strings.Replace(checkoutJSON, `2026-11-20T10:15:00+01:00`, `soon`, 1), "timestamp", nil},
		{"bad email, no other key", strings.Replace(strings.Replace(checkoutJSON, `" Jane.Doe@Example.com "`, `"@@@ !!!"`, 1), `"phone"`, `"tel"`, 1), "match_key", func(r *Request) { r.RemoteIP = "" }},
		{"object as value", strings.Replace(checkoutJSON, `129.95`, `{"amount":1}`, 1), "value", nil},
		{"invalid JSON", `{"order": {"total": 12`, "currency", func(r *Request) { r.RemoteIP = "" }},
		{"body too large", "", "currency", func(r *Request) { r.BodyTooLarge = true; r.RemoteIP = "" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := checkoutRequest(c.body)
			if c.edit != nil {
				c.edit(req)
			}
			_, err := mustCompile(t, checkoutRule()).Evaluate(req)
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("got %v, want an *InvalidError", err)
			}
			if inv.Field != c.field {
				t.Errorf("field %q, want %q (%v)", inv.Field, c.field, err)
			}
			for _, pii := range []string{"Jane", "Narnia", "euros", "lots", "@@@"} {
				if strings.Contains(err.Error(), pii) {
					t.Errorf("error %q quotes the request's value", err)
				}
			}
		})
	}
}

func TestEvaluateLeavesOutInvalidMatchKeys(t *testing.T) {
	body := strings.Replace(checkoutJSON, `" Jane.Doe@Example.com "`, `"not-an-email"`, 1)
	e, err := mustCompile(t, checkoutRule()).Evaluate(checkoutRequest(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.MatchKeys) != 2 || e.MatchKeys[0].Type != "PHONE" || e.MatchKeys[1].Type != "FIP" {
		t.Errorf("match keys %+v, want PHONE and FIP only", e.MatchKeys)
	}
}

func TestEvaluateTimestampForms(t *testing.T) {
	for in, want := range map[string]string{
		`"2026-11-20T10:15:00Z"`:        "2026-11-20T10:15:00Z",
		`"2026-11-20T10:15:00.123456Z"`: "2026-11-20T10:15:00Z",
		`"2026-11-20 10:15:00"`:         "2026-11-20T10:15:00Z",
		`1763633700`:                    "2025-11-20T10:15:00Z",
		`1763633700123`:                 "2025-11-20T10:15:00Z",
		`"1763633700"`:                  "2025-11-20T10:15:00Z",
	} {
		body := strings.Replace(checkoutJSON, `"2026-11-20T10:15:00+01:00"`, in, 1)
		e, err := mustCompile(t, checkoutRule()).Evaluate(checkoutRequest(body))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if e.EventTime != want {
			t.Errorf("%s → %s, want %s", in, e.EventTime, want)
		}
	}
	rule := checkoutRule()
	rule.Timestamp = ""
	e, _ := mustCompile(t, rule).Evaluate(checkoutRequest(checkoutJSON))
	if e.EventTime != "2026-11-25T12:00:00Z" {
		t.Errorf("default time %s, want the arrival time", e.EventTime)
	}
}

func TestAMalformedBodyIsReportedAsSuchNotAsAMissingField(t *testing.T) {
	_, err := mustCompile(t, checkoutRule()).Evaluate(checkoutRequest(`{"order": {"total": 12`))
	if err == nil || !strings.Contains(err.Error(), "the request body is not valid JSON") {
		t.Errorf("got %v", err)
	}
	r := checkoutRule()
	r.Currency = "EUR"
	req := checkoutRequest(`{"order": {"total": 12`)
	req.RemoteIP = ""
	_, err = mustCompile(t, r).Evaluate(req)
	if err == nil || !strings.Contains(err.Error(), "the request body is not valid JSON") {
		t.Errorf("with the currency given: %v", err)
	}
}

func TestPurchaseFieldsAreRequiredOnPurchasesAndRefusedElsewhere(t *testing.T) {
	r := validRule()
	r.Currency = ""
	if _, err := Compile("p", r); err == nil || !strings.Contains(err.Error(), "field currency: is required for OFF_AMAZON_PURCHASES") {
		t.Errorf("a purchase without currency: %v", err)
	}
	r = validRule()
	r.Type = "ADD_TO_SHOPPING_CART"
	r.UnitsSold = "body.qty"
	if _, err := Compile("cart", r); err == nil || !strings.Contains(err.Error(), "field currency: is sent with OFF_AMAZON_PURCHASES only") {
		t.Errorf("currency on a cart event: %v", err)
	}
	r.Currency = ""
	if _, err := Compile("cart", r); err == nil || !strings.Contains(err.Error(), "field units_sold: is sent with OFF_AMAZON_PURCHASES only") {
		t.Errorf("units_sold on a cart event: %v", err)
	}
	r.UnitsSold = ""
	if _, err := Compile("cart", r); err != nil {
		t.Errorf("a cart event with neither: %v", err)
	}
}

func TestACustomValueThatDoesNotFitItsTypeDropsTheAttributeNotTheEvent(t *testing.T) {
	r := checkoutRule()
	r.Custom = []CustomRule{
		{Name: "brand", Value: "body.items.0.brand"},
		{Name: "discount", Value: "literal:-5", DataType: "INTEGER"},
		{Name: "label", Value: "literal:日本", DataType: "STRING"},
		{Name: "when", Value: "literal:someday", DataType: "TIMESTAMP"},
	}
	var notes Notes
	e, err := mustCompile(t, r).EvaluateNoting(checkoutRequest(checkoutJSON), &notes)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.CustomData) != 1 || e.CustomData[0].Name != "brand" {
		t.Errorf("custom data %+v, want brand only", e.CustomData)
	}
	reasons := map[string]string{}
	for _, d := range notes.DroppedCustom {
		reasons[d.Type] = d.Reason
	}
	want := map[string]string{"discount": "negative_integer", "label": "no_letters_or_digits", "when": "not_a_time"}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("dropped %v, want %v", reasons, want)
	}
}

func TestTheOtherFieldsAmazonTakesAreMappable(t *testing.T) {
	r := checkoutRule()
	r.DataSetName = "web_checkouts-2026"
	r.AmazonAdEventKey = "header.X-Amzn-Ad-Event-Key"
	r.Partner = "literal:shopsignal"
	r.ArefMeasurementTokens = "cookie.amzn_aref"
	req := checkoutRequest(checkoutJSON)
	req.HTTP.Header.Set("X-Amzn-Ad-Event-Key", "AEK123")
	req.HTTP.AddCookie(&http.Cookie{Name: "amzn_aref", Value: "AbCdEf1234.1764072000000|bad.1|ZyXwVu9876.1764072100000"})
	var notes Notes
	e, err := mustCompile(t, r).EvaluateNoting(req, &notes)
	if err != nil {
		t.Fatal(err)
	}
	if e.EventDescription.DataSetName != "web_checkouts-2026" || e.AmazonAdEventKey != "AEK123" || e.Partner != "shopsignal" {
		t.Errorf("got %+v", e)
	}
	if e.ArefMeasurementTokens != "AbCdEf1234.1764072000000|ZyXwVu9876.1764072100000" || notes.MalformedClickTokens != 1 {
		t.Errorf("click tokens %q, %d malformed", e.ArefMeasurementTokens, notes.MalformedClickTokens)
	}
	for _, bad := range []func(*Rule){
		func(r *Rule) { r.DataSetName = "9lives" },
		func(r *Rule) { r.DataSetName = "body.set" },
		func(r *Rule) { r.ArefMeasurementTokens = "literal:abc.123" },
	} {
		r := checkoutRule()
		bad(&r)
		if _, err := Compile("purchase", r); err == nil {
			t.Errorf("compiled %+v", r)
		}
	}
}

// A value or an event time the shop could not have meant is refused, not
// sent as something else: a total of 1e308 (sent as 0 before), an event
// time years ahead. A few minutes of clock skew pass.
func TestValuesAndTimesOutOfRangeAreInvalid(t *testing.T) {
	for _, c := range []struct {
		from, to, field, code string
	}{
		{`"total": 129.95`, `"total": 1e308`, "value", InvalidNumber},
		{`"total": 129.95`, `"total": 10000000000000`, "value", InvalidNumber},
		{`"total": 129.95`, `"total": -1e308`, "value", InvalidNumber},
		{`"created_at": "2026-11-20T10:15:00+01:00"`, `"created_at": "9999-12-31T23:59:59Z"`, "timestamp", InvalidTime},
		{`"created_at": "2026-11-20T10:15:00+01:00"`, `"created_at": "2026-11-25T12:16:00Z"`, "timestamp", InvalidTime},
	} {
		body := strings.Replace(checkoutJSON, c.from, c.to, 1)
		_, err := mustCompile(t, checkoutRule()).Evaluate(checkoutRequest(body))
		var inv *InvalidError
		if !errors.As(err, &inv) || inv.Field != c.field || inv.Code != c.code {
			t.Errorf("%s: %v, want invalid %s (%s)", c.to, err, c.field, c.code)
		}
	}
	for _, ok := range []string{`"total": 9999999999999.99`, `"created_at": "2026-11-25T12:14:00Z"`} {
		from := `"total": 129.95`
		if strings.Contains(ok, "created_at") {
			from = `"created_at": "2026-11-20T10:15:00+01:00"`
		}
		if _, err := mustCompile(t, checkoutRule()).Evaluate(checkoutRequest(strings.Replace(checkoutJSON, from, ok, 1))); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
