package mapping

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// The module's two aggregates, @sum and @sumproduct, end a body path
// (body.items.#.qty|@sum, body.items|@sumproduct:price,qty). They are not
// gjson modifiers: registering one (gjson.AddModifier) would change gjson
// for every plugin in the user's Caddy build. A path is compiled without
// its aggregate, read with gjson, and the aggregate applied to the value
// (aggregate.apply).

// aggregate is a body path's trailing @sum or @sumproduct.
type aggregate struct {
	kind byte   // 0: none; 's' @sum; 'p' @sumproduct
	a, b string // @sumproduct's two fields
}

// cutAggregate takes a trailing |@sum or |@sumproduct:<a>,<b> off path.
func cutAggregate(path string) (string, aggregate, error) {
	if rest, ok := strings.CutSuffix(path, "|@sum"); ok {
		return rest, aggregate{kind: 's'}, nil
	}
	i := strings.LastIndex(path, "|@sumproduct")
	if i < 0 {
		return path, aggregate{}, nil
	}
	arg, _ := strings.CutPrefix(path[i+len("|@sumproduct"):], ":")
	a, b, ok := strings.Cut(strings.Trim(arg, `"`), ",")
	if !ok || strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" {
		return "", aggregate{}, fmt.Errorf("@sumproduct takes two fields: @sumproduct:price,qty")
	}
	return path[:i], aggregate{kind: 'p', a: strings.TrimSpace(a), b: strings.TrimSpace(b)}, nil
}

// String is the aggregate as written after a path.
func (g aggregate) String() string {
	switch g.kind {
	case 's':
		return "|@sum"
	case 'p':
		return "|@sumproduct:" + g.a + "," + g.b
	}
	return ""
}

// apply is the aggregate of v: @sum adds up an array's numbers (numeric
// strings count too; a value that is not an array is itself); @sumproduct
// adds up, over an array of objects, the product of two of their fields
// (Σ price × qty; an item missing either adds nothing; a value that is not
// an array gives nothing).
func (g aggregate) apply(v gjson.Result, ok bool) (gjson.Result, bool) {
	switch {
	case g.kind == 0, !ok:
		return v, ok
	case !v.IsArray() && g.kind == 's':
		return v, ok
	case !v.IsArray():
		return gjson.Result{}, false
	}
	total := 0.0
	v.ForEach(func(_, item gjson.Result) bool {
		if g.kind == 's' {
			if f, ok := number(item); ok {
				total += f
			}
			return true
		}
		x, okX := number(item.Get(g.a))
		y, okY := number(item.Get(g.b))
		if okX && okY {
			total += x * y
		}
		return true
	})
	return gjson.Result{Type: gjson.Number, Num: total, Raw: strconv.FormatFloat(total, 'f', -1, 64)}, true
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

// sumPath is a body path <array>.#.<field>|@sum whose parts are plain keys
// and indexes, such as items.#.qty|@sum. gjson would build the list of
// fields as new JSON for aggregate.apply to read again; get adds the
// fields up as it goes through the array (FuzzSumMatchesReference holds
// the two routes equal).
type sumPath struct{ array, field string }

func parseSumPath(path string) *sumPath {
	rest, ok := strings.CutSuffix(path, "|@sum")
	if !ok {
		return nil
	}
	array, field, ok := strings.Cut(rest, ".#.")
	if !ok || !plainPath.MatchString(array) || !plainPath.MatchString(field) {
		return nil
	}
	return &sumPath{array: array, field: field}
}

// get is the sum's value in json, as aggregate.apply gives it for
// gjson.Get(json, "<array>.#.<field>"). The total has no Raw text:
// Result.String formats Num, and events read numbers by Num.
func (p *sumPath) get(json string) gjson.Result {
	var list gjson.Result
	if gjson.Parse(json).IsObject() {
		list = gjson.Get(json, p.array)
	}
	if !list.IsArray() { // rare: let gjson say what the path reads
		v, _ := aggregate{kind: 's'}.apply(exists(gjson.Get(json, p.array+".#."+p.field)))
		return v
	}
	total := 0.0
	list.ForEach(func(_, item gjson.Result) bool {
		if f, ok := number(item.Get(p.field)); ok {
			total += f
		}
		return true
	})
	return gjson.Result{Type: gjson.Number, Num: total}
}
