package mapping

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// The project's gjson modifiers, available in every body path.
func init() {
	gjson.AddModifier("sum", modSum)
	gjson.AddModifier("sumproduct", modSumProduct)
}

// modSumProduct adds up, over an array of objects, the product of two of
// their fields, named in the argument: body.items|@sumproduct:price,qty is
// Σ price × qty (a cart's total). An item missing either field adds
// nothing; a value that is not an array gives nothing.
func modSumProduct(json, arg string) string {
	a, b, ok := strings.Cut(strings.Trim(arg, `"`), ",")
	res := gjson.Parse(json)
	if !ok || !res.IsArray() {
		return ""
	}
	total := 0.0
	res.ForEach(func(_, item gjson.Result) bool {
		x, okX := number(item.Get(strings.TrimSpace(a)))
		y, okY := number(item.Get(strings.TrimSpace(b)))
		if okX && okY {
			total += x * y
		}
		return true
	})
	return strconv.FormatFloat(total, 'f', -1, 64)
}

// modSum adds up the numbers of an array (numeric strings count too):
// body.items.#.qty|@sum. A value that is not an array gives itself.
func modSum(json, _ string) string {
	res := gjson.Parse(json)
	if !res.IsArray() {
		return json
	}
	total := 0.0
	res.ForEach(func(_, v gjson.Result) bool {
		if f, ok := number(v); ok {
			total += f
		}
		return true
	})
	return strconv.FormatFloat(total, 'f', -1, 64)
}

// number reads a JSON number or a numeric string.
func number(v gjson.Result) (float64, bool) {
	switch v.Type {
	case gjson.Number:
		return v.Num, true
	case gjson.String:
		f, err := strconv.ParseFloat(v.Str, 64)
		return f, err == nil
	}
	return 0, false
}
