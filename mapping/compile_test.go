package mapping

import (
	"strings"
	"testing"
)

func validRule() Rule {
	return Rule{
		Type:      "OFF_AMAZON_PURCHASES",
		Country:   "US",
		Currency:  "USD",
		MatchKeys: []MatchKeyRule{{Type: "EMAIL", Value: "body.customer.email"}},
	}
}

func TestCompileAcceptsAValidRule(t *testing.T) {
	r := validRule()
	r.Value = "body.order.total"
	r.Currency = "usd"
	r.UnitsSold = "body.items.#.qty|@sum"
	r.Timestamp = "body.order.created_at"
	r.Custom = []CustomRule{{Name: "brand", Value: "body.items.0.brand"}}
	m, err := Compile("purchase", r)
	if err != nil {
		t.Fatal(err)
	}
	if !m.ReadsBody() || m.ReadsResponse() {
		t.Errorf("ReadsBody=%v ReadsResponse=%v, want true, false", m.ReadsBody(), m.ReadsResponse())
	}
	r = validRule()
	r.MatchKeys = []MatchKeyRule{{Type: "FIP", Value: "request.remote_ip"}}
	m, err = Compile("signup", r)
	if err != nil {
		t.Fatal(err)
	}
	if m.ReadsBody() {
		t.Error("a rule without body. or form. paths should not need the body")
	}
}

func TestCompileRejectsMistakesNamingEventAndField(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Rule)
		field  string
		says   string
	}{
		{"missing type", func(r *Rule) { r.Type = "" }, "type", "required"},
		{"unknown type", func(r *Rule) { r.Type = "PURCHASE" }, "type", "not a valid ConversionType"},
		{"unknown source", func(r *Rule) { r.Source = "WEB" }, "source", "not a valid EventSource"},
		{"missing country", func(r *Rule) { r.Country = "" }, "country", "required"},
		{"unknown country", func(r *Rule) { r.Country = "XX" }, "country", "not a valid CountryCode"},
		{"unknown currency", func(r *Rule) { r.Currency = "DOLLARS" }, "currency", "not a valid CurrencyCode"},
		{"no match key", func(r *Rule) { r.MatchKeys = nil }, "match_key", "at least one"},
		{"unknown match key type", func(r *Rule) { r.MatchKeys[0].Type = "E_MAIL" }, "match_key[0]", "not a valid MatchKeyType"},
		{"unbalanced path", func(r *Rule) { r.Value = "body.items.#(qty>1" }, "value", "unclosed"},
		{"unknown modifier", func(r *Rule) { r.UnitsSold = "body.items.#.qty|@summ" }, "units_sold", "unknown modifier @summ"},
		{"empty path", func(r *Rule) { r.DedupeID = "body." }, "dedupe_id", "names nothing"},
		{"unknown request field", func(r *Rule) { r.ConsentIP = "request.ip" }, "consent_ip", "request. takes one of"},
		{"unknown response path", func(r *Rule) { r.DedupeID = "response.json.id" }, "dedupe_id", "response paths are"},
		{"literal value not a number", func(r *Rule) { r.Value = "bdy.total" }, "value", "not a number"},
		{"literal time", func(r *Rule) { r.Timestamp = "yesterday" }, "timestamp", "not an ISO-8601"},
		{"literal email", func(r *Rule) { r.MatchKeys[0].Value = "  " }, "match_key[0]", "no value"},
		{"literal FIP", func(r *Rule) { r.MatchKeys[0] = MatchKeyRule{Type: "FIP", Value: "remote_ip"} }, "match_key[0] FIP", "not a valid FIP"},
		{"bad custom name", func(r *Rule) { r.Custom = []CustomRule{{Name: "my brand", Value: "x"}} }, "custom my brand", "letters, digits"},
		{"bad custom type", func(r *Rule) { r.Custom = []CustomRule{{Name: "n", Value: "1", DataType: "FLOAT"}} }, "custom n", "not a valid DataType"},
		{"bad consent", func(r *Rule) { r.ConsentUserData = "maybe" }, "amazon_consent_user_data", "GRANTED/DENIED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRule()
			c.change(&r)
			_, err := Compile("purchase", r)
			if err == nil {
				t.Fatal("compiled, want an error")
			}
			msg := err.Error()
			for _, want := range []string{`event "purchase"`, "field " + c.field, c.says} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
		})
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	_, err := Compile("x", Rule{Currency: "EURO"})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, field := range []string{"field type", "field country", "field currency", "field match_key"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("%q missing from %q", field, err)
		}
	}
}

func TestAConstantDedupeIDOrMatchKeyIsRefusedWithAHint(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Rule)
		says   []string
	}{
		{"dedupe_id without body.", func(r *Rule) { r.DedupeID = "order.id" },
			[]string{`field dedupe_id: "order.id" is a constant`, "same eventId", "Did you mean body.order.id?", "literal:order.id"}},
		{"dedupe_id one word", func(r *Rule) { r.DedupeID = "order_id" },
			[]string{"Did you mean body.order_id?"}},
		{"match key without body.", func(r *Rule) { r.MatchKeys[0].Value = "customer.email" },
			[]string{"match_key[0]", "Did you mean body.customer.email?"}},
		{"a valid email as a constant", func(r *Rule) { r.MatchKeys[0].Value = "shop@example.com" },
			[]string{`"shop@example.com" is a constant`, "same person", "literal:shop@example.com"}},
		{"a constant IP", func(r *Rule) { r.MatchKeys = []MatchKeyRule{{Type: "FIP", Value: "203.0.113.9"}} },
			[]string{"same person"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRule()
			c.change(&r)
			_, err := Compile("purchase", r)
			if err == nil {
				t.Fatal("compiled")
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestAnExplicitLiteralIsADeliberateConstant(t *testing.T) {
	r := validRule()
	r.DedupeID = "literal:TEST-ORDER"
	r.MatchKeys = append(r.MatchKeys, MatchKeyRule{Type: "EMAIL", Value: "literal:Test@Example.com"})
	m, err := Compile("purchase", r)
	if err != nil {
		t.Fatal(err)
	}
	if m.dedupeID.key != "TEST-ORDER" || !m.dedupeID.isLiteral() {
		t.Errorf("dedupe_id compiled to %+v", m.dedupeID)
	}
	// Placeholders may vary per request: not refused.
	r.DedupeID = "{http.request.uuid}"
	if _, err := Compile("purchase", r); err != nil {
		t.Fatal(err)
	}
}

func TestAnEnumSpelledInTheWrongCaseGetsTheRightSpellingAndNoPathHint(t *testing.T) {
	r := validRule()
	r.Type = "off_amazon_purchases"
	r.MatchKeys[0].Type = "email"
	r.Source = "WEBSIT"
	_, err := Compile("purchase", r)
	if err == nil {
		t.Fatal("compiled")
	}
	for _, s := range []string{"did you mean OFF_AMAZON_PURCHASES?", "did you mean EMAIL?", "did you mean WEBSITE?"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "path starts with") {
		t.Errorf("error %q gives a path hint for an enum", err)
	}
}
