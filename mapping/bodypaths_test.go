package mapping

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// One walk over a body finds what gjson.Get finds for each plain path, on
// any JSON object or array.
func FuzzBodyPathsMatchGJSON(f *testing.F) {
	f.Add(`{"order":{"total":"129.95","currency":"USD"},"customer":{"email":"a@b.c"},"items":[{"qty":2}]}`, "order.total order.currency customer.email items items.0.qty")
	f.Add(`{"a":{"x":1},"a":{"y":2},"a":3}`, "a a.x a.y a.z")
	f.Add(`{"a":[10,{"b":[1,2]},30],"0":"zero"}`, "a.1.b.1 a.01.b a.2 0 a.3")
	f.Add(`[{"a":1},[2,3],"s"]`, "0.a 1.1 2 0 3")
	f.Add(`{"a\u0062":"escaped key","q":"\"quoted\" \u00e9"}`, "ab q")
	f.Add(`{"n":null,"t":true,"f":false,"x":-1.5e3,"o":{},"e":[]}`, "n t f x o e o.k e.0")
	f.Add(`{"a":{"b":{"c":{"d":1}}},"a":{"b":{"c":{"e":2}}}}`, "a.b.c.e a.b.c.d a.b")
	f.Fuzz(func(t *testing.T, body, list string) {
		var b bodyPaths
		var paths []string
		slots := map[string]int{}
		for _, p := range strings.Fields(list) {
			if slot := b.add(p); slot > 0 {
				paths = append(paths, p)
				slots[p] = slot
			}
		}
		if len(paths) == 0 || !gjson.Valid(body) {
			t.Skip()
		}
		found := make([]gjson.Result, maxBodyPaths)
		if b.walk(body, found) == 0 {
			t.Skip() // a single value: read with gjson.Get itself
		}
		for _, p := range paths {
			got, want := found[slots[p]-1], gjson.Get(body, p)
			if got.Exists() != want.Exists() || got.Type != want.Type || got.Raw != want.Raw || got.Str != want.Str || got.Num != want.Num {
				t.Fatalf("%s in %s: walk %v %q, gjson %v %q", p, body, got.Type, got.Raw, want.Type, want.Raw)
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
