package mapping

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzEvaluate feeds arbitrary bodies, headers and query strings to a
// typical checkout mapping: it must never panic, only build a valid event
// or say why not, and never let a raw email through.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(checkoutJSON), "DE", "email=a%40b.example", "1")
	f.Add([]byte(`{"order":{"total":"12.5","currency":"usd"},"customer":{"email":"X@Y.example"},"items":[{"qty":"2"}]}`), "us", "", "")
	f.Add([]byte(`{"a":`+strings.Repeat("[", 500)), "\xff", "%zz", "yes")
	f.Add([]byte("email=jane%40example.com&country=US"), "", "a=1&a=2", "")
	f.Add([]byte{0xff, 0xfe, 0x00}, "GB", "", "true")
	rule := checkoutRule()
	rule.MatchKeys = append(rule.MatchKeys, MatchKeyRule{Type: "EMAIL", Value: "query.email"}, MatchKeyRule{Type: "POSTAL", Value: "form.zip"})
	m, err := Compile("purchase", rule)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, country, query, gpc string) {
		r := httptest.NewRequest(http.MethodPost, "/checkout", nil)
		r.URL.RawQuery = query
		r.Header["Cf-Ipcountry"] = []string{country}
		r.Header["Sec-Gpc"] = []string{gpc}
		req := &Request{HTTP: r, Body: body, RemoteIP: "203.0.113.7"}
		id, idOK := m.DedupeID(req)
		e, err := m.Evaluate(req)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if idOK && id != e.EventID { // DedupeID reads the path alone, Evaluate in its walk
			t.Fatalf("DedupeID %q, the event's ID %q", id, e.EventID)
		}
		for _, k := range e.MatchKeys {
			if IsHashedKeyType(k.Type) && !isSHA256Hex(k.Values[0]) {
				t.Fatalf("%s sent unhashed", k.Type)
			}
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if e.CountryCode == "" || e.EventID == "" || strings.Contains(string(out), "@example") {
			t.Fatalf("bad event %s", out)
		}
	})
}

// FuzzCompile feeds arbitrary expressions to every field: Compile must not
// panic, only accept or refuse.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"body.items.#.qty|@sum", "body.a.#(b==\"c\").d", "{http.request.uri}", "response.body.x", "header.", "@this", "body.@reverse", "body.a|@summ", "body.[", "form.a[b]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		r := validRule()
		r.Value, r.Timestamp, r.DedupeID, r.Currency = expr, expr, expr, expr
		r.MatchKeys = append(r.MatchKeys, MatchKeyRule{Type: "FIP", Value: expr})
		m, err := Compile("x", r)
		if err == nil {
			_, _ = m.Evaluate(checkoutRequest(checkoutJSON))
		}
	})
}
