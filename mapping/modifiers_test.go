package mapping

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// body.<array>.#.<field>|@sum reads what gjson reads at <array>.#.<field>,
// summed as @sum says (referenceSum), on any JSON.
func FuzzSumMatchesReference(f *testing.F) {
	f.Add(`{"items":[{"qty":2},{"qty":"1"},{"qty":1.5},{"sku":"x"},{"qty":[3]},{"qty":null},{"qty":true}]}`, "items", "qty")
	f.Add(`{"order":{"lines":[{"n":{"q":1}},{"n":{"q":"x"}}]}}`, "order.lines", "n.q")
	f.Add(`{"items":{"qty":2}}`, "items", "qty")
	f.Add(`{"items":[]}`, "items", "qty")
	f.Add(`{"items":"2"}`, "items", "qty")
	f.Add(`{"a":[[{"b":1}],{"b":2}]}`, "a", "b")
	f.Add(`{"items":[{"qty":1e400},{"qty":-1e400}]}`, "items", "qty")
	f.Fuzz(func(t *testing.T, body, array, field string) {
		path := array + ".#." + field
		e, err := parseExpr("body." + path + "|@sum")
		if err != nil || !plainPath.MatchString(array) || !plainPath.MatchString(field) || !validJSON([]byte(body)) {
			t.Skip()
		}
		got, _ := (&Request{Body: []byte(body)}).lookup(&e)
		want := referenceSum(body, path)
		if got.Type != want.Type || got.String() != want.String() {
			t.Fatalf("sum of %s over %s: got %v %q, reference %v %q", path, body, got.Type, got.String(), want.Type, want.String())
		}
	})
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
		e, err := parseExpr("body." + path)
		if err != nil {
			if want != "" {
				t.Errorf("%s: %v", path, err)
			}
			continue
		}
		got, _ := (&Request{Body: []byte(cart)}).lookup(&e)
		if got.String() != want {
			t.Errorf("%s = %q, want %q", path, got.String(), want)
		}
	}
}

// referenceSum is @sum as documented, from gjson's own reading of path: an
// array's numbers (numeric strings too) added up, the total's text read
// back as JSON; anything else as it is.
func referenceSum(body, path string) gjson.Result {
	v := gjson.Get(body, path)
	if !v.IsArray() {
		return v
	}
	total := 0.0
	for _, item := range v.Array() {
		switch item.Type {
		case gjson.Number:
			total += item.Num
		case gjson.String:
			if f, err := strconv.ParseFloat(item.Str, 64); err == nil {
				total += f
			}
		}
	}
	return gjson.Parse(strconv.FormatFloat(total, 'f', -1, 64))
}

// The module leaves gjson as it found it: @sum and @sumproduct are the
// module's own, read off the end of a path, not modifiers registered for
// every plugin of the user's Caddy build.
func TestTheModuleRegistersNoGJSONModifier(t *testing.T) {
	for _, name := range []string{"sum", "sumproduct"} {
		if gjson.ModifierExists(name, nil) {
			t.Errorf("gjson has a modifier @%s: registered for the whole binary", name)
		}
	}
	for path, want := range map[string]string{
		"body.items.#.qty|@sum":              "",
		"body.items|@sumproduct:price,qty":   "",
		"body.items|@sumproduct:price":       "@sumproduct takes two fields",
		"body.items.#.qty|@sum|@reverse":     "unknown modifier @sum",
		"response.body.lines.#.n|@sum":       "",
		"body.items|@sumproduct:price,qty,x": "",
	} {
		_, err := parseExpr(path)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}
