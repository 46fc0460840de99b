package mapping

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// A mapped field the request carries twice makes the event invalid: the
// shop's backend takes the last one where gjson reads the first, so the
// conversion would carry an order and a total the shop never accepted. A
// key twice elsewhere in the body does not matter.
func TestAMappedFieldSentTwiceMakesTheEventInvalid(t *testing.T) {
	json := func(body string) *Request { return checkoutRequest(body) }
	form := func(body string) *Request {
		r := checkoutRequest(body)
		r.HTTP.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	formRule := Rule{Type: "OFF_AMAZON_PURCHASES", DedupeID: "form.order_id", Value: "form.total", Currency: "USD", Country: "US",
		MatchKeys: []MatchKeyRule{{Type: "FIP", Value: "request.remote_ip"}}}
	queryRule := formRule
	queryRule.DedupeID = "query.order"
	for _, c := range []struct {
		name  string
		rule  Rule
		req   *Request
		field string // "" for valid
	}{
		{"JSON: the order twice", checkoutRule(), json(strings.Replace(checkoutJSON, `"order": {`, `"order": {"total": 1, "id": "DUP-1", `, 1)), "dedupe_id"},
		{"JSON: a whole object twice", checkoutRule(), json(strings.Replace(checkoutJSON, `"order": {`, `"order": {"id": "X"}, "order": {`, 1)), "timestamp"},
		{"JSON: an unmapped key twice", checkoutRule(), json(strings.Replace(checkoutJSON, `"order": {`, `"note": 1, "note": 2, "order": {`, 1)), ""},
		{"form: the total twice", formRule, form("order_id=F-1&total=1&total=99999.99"), "value"},
		{"form: once each", formRule, form("order_id=F-1&total=1"), ""},
		{"query: the order twice", queryRule, queryRequest("/checkout?order=Q-1&order=Q-2", "total=1"), "dedupe_id"},
	} {
		_, err := mustCompile(t, c.rule).Evaluate(c.req)
		var inv *InvalidError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.field != "" && (!errors.As(err, &inv) || inv.Code != InvalidDuplicate || inv.Field != c.field):
			t.Errorf("%s: %v, want %s invalid as %s", c.name, err, c.field, InvalidDuplicate)
		}
	}
}

func queryRequest(target, body string) *Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return &Request{HTTP: r, Body: []byte(body), RemoteIP: "203.0.113.7", Arrived: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

// A value a visitor made long is never kept whole: a custom STRING value
// over MaxCustomValueBytes is left out (too_long), any mapped value over
// MaxValueBytes makes the event invalid (too_long).
func TestLongValuesAreRefused(t *testing.T) {
	rule := checkoutRule()
	rule.Custom = []CustomRule{{Name: "brand", Value: "body.items.0.brand"}}
	body := strings.Replace(checkoutJSON, `"brand": "Acme Co."`, `"brand": "`+strings.Repeat("b", MaxCustomValueBytes+1)+`"`, 1)
	var notes Notes
	e, err := mustCompile(t, rule).EvaluateNoting(checkoutRequest(body), &notes)
	if err != nil || len(e.CustomData) != 0 || len(notes.DroppedCustom) != 1 || notes.DroppedCustom[0].Reason != "too_long" {
		t.Errorf("a %d-byte brand: %v, custom %v, dropped %+v", MaxCustomValueBytes+1, err, e.CustomData, notes.DroppedCustom)
	}
	rule = checkoutRule()
	rule.Partner = "header.X-Partner"
	req := checkoutRequest(checkoutJSON)
	req.HTTP.Header.Set("X-Partner", strings.Repeat("p", MaxValueBytes+1))
	_, err = mustCompile(t, rule).Evaluate(req)
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Field != "partner" || inv.Code != InvalidTooLong {
		t.Errorf("a %d-byte partner: %v, want invalid too_long", MaxValueBytes+1, err)
	}
}

// One walk over the body (bodyKeys) finds a key twice on a path exactly
// when walking that path alone (duplicatedAlong) does, whatever the body
// and the paths.
func FuzzOneWalkFindsWhatEachPathsWalkFinds(f *testing.F) {
	f.Add(`{"order":{"id":"A","total":1,"id":"B"},"items":[{"qty":2}]}`, "order.id order.total items.0.qty")
	f.Add(`{"a":{"x":1},"a":{"y":2},"a":3}`, "a a.x a.y a.z")
	f.Add(`{"a":[10,{"b":[1,2],"b":3},30],"0":"zero","0":1}`, "a.1.b.1 a.01.b a.2 0 a.3 a.#.b")
	f.Add(`[{"a":1,"a":2},[2,3],"s"]`, "0.a 1.1 2 0 3")
	f.Add(`{"a\u0062":"escaped key","ab":2}`, "ab q")
	f.Add(`{"a":{"b":{"c":{"d":1}}},"x":{"b":{"c":{"e":2,"e":3}}}}`, "a.b.c.e a.b.c.d x.b.c.e x")
	f.Fuzz(func(t *testing.T, body, list string) {
		if !validJSON([]byte(body)) {
			t.Skip()
		}
		var keys bodyKeys
		paths := strings.Fields(list)
		along := make([]uint64, len(paths))
		for i, p := range paths {
			along[i] = keys.add(p)
		}
		dup := keys.root.twice(gjson.Parse(body))
		for i, p := range paths {
			if along[i] == 0 {
				continue
			}
			if got, want := dup&along[i] != 0, duplicatedAlong([]byte(body), p); got != want {
				t.Fatalf("%s in %s: one walk says twice %v, its own walk %v", p, body, got, want)
			}
		}
	})
}
