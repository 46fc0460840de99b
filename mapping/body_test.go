package mapping

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// A body nested deeper than MaxNesting is not JSON to the mapping: gjson's
// validator would take a stack frame per level.
func TestABodyNestedTooDeeplyIsNotJSON(t *testing.T) {
	for body, want := range map[string]bool{
		strings.Repeat("[", MaxNesting) + strings.Repeat("]", MaxNesting):         true,
		strings.Repeat("[", MaxNesting+1) + strings.Repeat("]", MaxNesting+1):     false,
		strings.Repeat("[", 64<<10):                                               false,
		`{"note":"` + strings.Repeat("[{", MaxNesting) + `","items":[{"qty":1}]}`: true,
		`{"a":"\"` + strings.Repeat("[", MaxNesting+1) + `"}`:                     true,
	} {
		if got := validJSON([]byte(body)); got != want {
			t.Errorf("%.40q… (%d bytes): JSON %v, want %v", body, len(body), got, want)
		}
	}
}

// The nesting guard measures the depth gjson sees, on any valid JSON.
func FuzzNestingGuardMatchesDepth(f *testing.F) {
	for _, s := range []string{`[[[]]]`, `{"a":[{"b":"[[[["}]}`, `["\"]]]]",[[1]]]`, `[{},{},{},[[]]]`, `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !gjson.Valid(body) {
			t.Skip()
		}
		depth := depthOf(gjson.Parse(body))
		for limit := 0; limit <= 4; limit++ {
			if got := nestedWithin([]byte(body), limit); got != (depth <= limit) {
				t.Fatalf("%q (depth %d) within %d: %v", body, depth, limit, got)
			}
		}
	})
}

func depthOf(v gjson.Result) int {
	if !v.IsObject() && !v.IsArray() {
		return 0
	}
	deepest := 0
	v.ForEach(func(_, item gjson.Result) bool {
		deepest = max(deepest, depthOf(item))
		return true
	})
	return 1 + deepest
}
