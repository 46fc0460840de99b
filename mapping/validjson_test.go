package mapping

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

var validJSONSeeds = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `01`, `1.`, `1.5e`, `1e+9`, `-`, `1E-2`, `tru`, `true`, `false `, ` null`,
	`nul`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{"a":}`, `{,}`, `[,]`, `{"a":1}{`, `"\u12g4"`, `"\u1234"`,
	`"\x"`, `"a\"b"`, "\"tab\there\"", "\"\x7f\xff\x80\"", `"\\"`, `"\/"`, `[[[[[]]]]]`, `{"a":[{"b":null}]}`,
	`"abcdefgh"`, `"abcdefg"`, `"abcdefghi"`, `"abcdefgh\"ijklmnop"`, `"abcdefg\"`, "\"abcdefg\x1fhij\"",
	"{\"order\":{\"total\":\"129.95\"},\"note\":\"" + strings.Repeat("x", 700) + "\"}", `"` + strings.Repeat("é", 30) + `"`,
	"\t\n\r[1]\r\n", `[1]x`, `{"a":1}}`, `"unterminated`, `-01`, `2.`, `.5`, `+1`, `1e`, `0x10`, `[-]`,
}

// validJSON answers as gjson.ValidBytes does, whatever the input.
func TestValidJSONMatchesGJSONOnSeeds(t *testing.T) {
	for _, s := range validJSONSeeds {
		if got, want := validJSON([]byte(s)), gjson.ValidBytes([]byte(s)); got != want {
			t.Errorf("validJSON(%q) = %v, gjson says %v", s, got, want)
		}
	}
}

func FuzzValidJSONMatchesGJSON(f *testing.F) {
	for _, s := range validJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), gjson.ValidBytes(b); got != want {
			t.Fatalf("validJSON(%q) = %v, gjson says %v", b, got, want)
		}
	})
}

// A JSON body nested deeper than maxDepth is refused, not a stack overflow.
func TestValidJSONRefusesVeryDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+5) + strings.Repeat("]", maxDepth+5)
	if validJSON([]byte(deep)) {
		t.Error("accepted")
	}
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if !validJSON([]byte(ok)) {
		t.Error("refused 100 levels")
	}
}

// BenchmarkValidJSON checks the bench's 1 KiB checkout body.
func BenchmarkValidJSON(b *testing.B) {
	body := []byte(`{"order":{"total":"129.95","currency":"USD"},"customer":{"email":"Jane.Doe@example.com","phone":"+1 206 555 0100"},` +
		`"shipping":{"country":"US"},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"note":"` + strings.Repeat("x", 700) + `"}`)
	for _, check := range []struct {
		name  string
		valid func([]byte) bool
	}{{"ours", validJSON}, {"gjson", gjson.ValidBytes}} {
		b.Run(check.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !check.valid(body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
