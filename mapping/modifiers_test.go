package mapping

import (
	"testing"

	"github.com/tidwall/gjson"
)

// The one-pass sum gives what gjson gives for <array>.#.<field>|@sum, on
// any JSON.
func FuzzSumPathMatchesGJSON(f *testing.F) {
	f.Add(`{"items":[{"qty":2},{"qty":"1"},{"qty":1.5},{"sku":"x"},{"qty":[3]},{"qty":null},{"qty":true}]}`, "items", "qty")
	f.Add(`{"order":{"lines":[{"n":{"q":1}},{"n":{"q":"x"}}]}}`, "order.lines", "n.q")
	f.Add(`{"items":{"qty":2}}`, "items", "qty")
	f.Add(`{"items":[]}`, "items", "qty")
	f.Add(`{"items":"2"}`, "items", "qty")
	f.Add(`{"a":[[{"b":1}],{"b":2}]}`, "a", "b")
	f.Add(`{"a":[{"0":5},[7]]}`, "a", "0")
	f.Add(`{"items":[{"qty":1e400},{"qty":-1e400}]}`, "items", "qty")
	f.Fuzz(func(t *testing.T, body, array, field string) {
		p := parseSumPath(array + ".#." + field + "|@sum")
		if p == nil || !gjson.Valid(body) {
			t.Skip()
		}
		got, want := p.get(body), gjson.Get(body, array+".#."+field+"|@sum")
		if got.Exists() != want.Exists() || got.Type != want.Type || got.Raw != want.Raw {
			t.Fatalf("sum of %s.#.%s over %s: got %v %q, gjson %v %q", array, field, body, got.Type, got.Raw, want.Type, want.Raw)
		}
	})
}

func TestOnlyPlainSumPathsTakeTheOnePassRoute(t *testing.T) {
	for path, plain := range map[string]bool{
		"items.#.qty|@sum":         true,
		"order.lines.#.n.q|@sum":   true,
		"items.#.qty":              false,
		"items.#(qty>1)#.qty|@sum": false,
		"items.*.qty|@sum":         false,
		"it\\.ems.#.qty|@sum":      false,
		"items.#.qty|@sum:x":       false,
	} {
		if got := parseSumPath(path) != nil; got != plain {
			t.Errorf("%s: one pass %v, want %v", path, got, plain)
		}
	}
}

func TestSumProductAddsUpPriceTimesQuantity(t *testing.T) {
	cart := `{"items":[{"price":12.95,"qty":2},{"price":"7.50","qty":1},{"price":3}]}`
	for path, want := range map[string]string{
		`items|@sumproduct:price,qty`:   "33.4",
		`items|@sumproduct:"price,qty"`: "33.4",
		`items|@sumproduct:price`:       "",
		`nothing|@sumproduct:price,qty`: "",
		`items.0|@sumproduct:price,qty`: "",
	} {
		if got := gjson.Get(cart, path).String(); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}
