package mapping

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// One pass over a body gives, for each of a mapping's plain paths and sums,
// what gjson.Get gives, and calls the body valid JSON when validJSON does
// (which FuzzValidJSONMatchesGJSON holds to gjson).
func FuzzScanMatchesGJSON(f *testing.F) {
	f.Add(`{"order":{"total":"129.95","currency":"USD"},"customer":{"email":"a@b.c"},"items":[{"qty":2}]}`, "order.total order.currency customer.email items items.0.qty items.#.qty|@sum")
	f.Add(`{"a":{"x":1},"a":{"y":2},"a":3}`, "a a.x a.y a.z")
	f.Add(`{"a":[10,{"b":[1,2]},30],"0":"zero"}`, "a.1.b.1 a.01.b a.2 0 a.3 a.#.b|@sum a.#.0|@sum")
	f.Add(`[{"a":1},[2,3],"s"]`, "0.a 1.1 2 0 3")
	f.Add(`{"a\u0062":"escaped key","q":"\"quoted\" \u00e9"}`, "ab q")
	f.Add(`{"n":null,"t":true,"f":false,"x":-1.5e3,"o":{},"e":[]}`, "n t f x o e o.k e.0 e.#.k|@sum")
	f.Add(`{"a":{"b":{"c":{"d":1}}},"a":{"b":{"c":{"e":2}}}}`, "a.b.c.e a.b.c.d a.b")
	f.Add(`{"items":[{"qty":2},{"qty":"1"},{"qty":1.5},{"sku":"x"},{"qty":[3]},{"qty":null},{"qty":true}]}`, "items.#.qty|@sum items.1.qty items.#.sku|@sum")
	f.Add(`{"o":{"lines":[{"n":{"q":1}},{"n":{"q":"x"},"n":{"q":4}}]},"o":{"lines":[{"n":{"q":9}}]}}`, "o.lines.#.n.q|@sum o.lines")
	f.Add(`{"items":{"qty":2},"items":[{"qty":3}]}`, "items.#.qty|@sum")
	f.Add(`{"a":[[{"b":1}],{"b":2}],"x":[1,}`, "a.#.b|@sum")
	f.Fuzz(func(t *testing.T, body, list string) {
		var b bodyPaths
		type path struct {
			text      string
			slot, sum int
			isSum     bool // a sum's field the pass does not read has no sum index: it is added up on its own
		}
		var paths []path
		for _, p := range strings.Fields(list) {
			slot, sum := 0, 0
			s := parseSumPath(p)
			if s != nil {
				slot, sum = b.addSum(s.array, s.field)
			} else {
				slot = b.add(p)
			}
			if slot > 0 {
				paths = append(paths, path{p, slot, sum, s != nil})
				if s != nil { // the array's value too, from which a sum not read in the pass is added up
					paths = append(paths, path{s.array, slot, 0, false})
				}
			}
		}
		var got bodyScan
		valid := b.scan([]byte(body), &got)
		if want := validJSON([]byte(body)); valid != want {
			t.Fatalf("%s: scan says valid %v, validJSON %v", body, valid, want)
		}
		if !valid || got.kind == 0 {
			return // a single value is read with gjson.Get itself
		}
		for _, p := range paths {
			want := gjson.Get(body, p.text)
			if p.isSum {
				want = referenceSum(body, strings.TrimSuffix(p.text, "|@sum"))
				if p.sum > 0 && got.kind == '{' && got.value(body, p.slot).IsArray() {
					if total := strconv.FormatFloat(got.totals[p.sum-1], 'f', -1, 64); total != want.Raw {
						t.Fatalf("%s in %s: scan %s, gjson %q", p.text, body, total, want.Raw)
					}
				}
				continue
			}
			v := got.value(body, p.slot)
			if v.Exists() != want.Exists() || v.Type != want.Type || v.Raw != want.Raw || v.Str != want.Str || v.Num != want.Num {
				t.Fatalf("%s in %s: scan %v %q, gjson %v %q", p.text, body, v.Type, v.Raw, want.Type, want.Raw)
			}
		}
	})
}

func TestOnlyPlainBodyPathsAreWalked(t *testing.T) {
	var b bodyPaths
	for path, plain := range map[string]bool{
		"order.total":      true,
		"items.0.sku":      true,
		"a-b.c_d.9":        true,
		"items.#.qty":      false,
		"items.#.qty|@sum": false,
		"a.*":              false,
		"a\\.b":            false,
		"a.1234567890":     false,
		`a.#(b=="c").d`:    false,
		"@this":            false,
	} {
		if got := b.add(path) > 0; got != plain {
			t.Errorf("%q walked: %v, want %v", path, got, plain)
		}
	}
	if b.add("order.total") != b.add("order.total") {
		t.Error("the same path got two slots")
	}
}

func TestABodyMapsAtMostSixteenPathsIntoTheWalk(t *testing.T) {
	var b bodyPaths
	for i := range maxBodyPaths {
		if b.add("p"+string(rune('a'+i))) == 0 {
			t.Fatalf("path %d got no slot", i)
		}
	}
	if b.add("one.more") != 0 {
		t.Error("a path beyond the limit got a slot; it should be read with gjson.Get")
	}
}

// DedupeID reads the body in the mapping's one pass, and Evaluate uses that
// pass instead of reading the body again: a key renamed after DedupeID
// still counts, which a second pass would not see.
func TestDedupeIDAndEvaluateShareOnePass(t *testing.T) {
	m := mustCompile(t, checkoutRule())
	r := checkoutRequest(checkoutJSON)
	if id, ok := m.DedupeID(r); !ok || id != "ORD-1001" {
		t.Fatalf("DedupeID = %q, %v", id, ok)
	}
	renamed := strings.Replace(string(r.Body), `"qty": 2`, `"qtx": 2`, 1)
	copy(r.Body, renamed)
	e, err := m.Evaluate(r)
	if err != nil {
		t.Fatal(err)
	}
	if e.EventID != "ORD-1001" || e.UnitsSold == nil || *e.UnitsSold != 3 {
		t.Fatalf("Evaluate read the body again: id %q, units %v, want 3 from the first pass", e.EventID, e.UnitsSold)
	}
	again := checkoutRequest(renamed)
	if e, err := m.Evaluate(again); err != nil || e.UnitsSold == nil || *e.UnitsSold != 1 {
		t.Fatalf("the renamed body read on its own: units %v, %v; want 1", e.UnitsSold, err)
	}
}

// With two events on one request, the first event's pass survives the
// second event's DedupeID, so each Evaluate reads the body once: the first
// from the pass DedupeID made, the second with a pass of its own.
func TestTwoEventsKeepTheFirstPass(t *testing.T) {
	first := mustCompile(t, checkoutRule())
	second := mustCompile(t, checkoutRule())
	r := checkoutRequest(checkoutJSON)
	for _, m := range []*Mapping{first, second} {
		if id, ok := m.DedupeID(r); !ok || id != "ORD-1001" {
			t.Fatalf("DedupeID = %q, %v", id, ok)
		}
	}
	renamed := strings.Replace(string(r.Body), `"qty": 2`, `"qtx": 2`, 1)
	copy(r.Body, renamed)
	e, err := first.Evaluate(r)
	if err != nil || e.UnitsSold == nil || *e.UnitsSold != 3 {
		t.Fatalf("the first event read the body again: units %v, %v; want 3 from its DedupeID's pass", e.UnitsSold, err)
	}
	e, err = second.Evaluate(r)
	if err != nil || e.EventID != "ORD-1001" || e.UnitsSold == nil || *e.UnitsSold != 1 {
		t.Fatalf("the second event: id %q, units %v, %v; want its own pass over the body as it is now", e.EventID, e.UnitsSold, err)
	}
}
