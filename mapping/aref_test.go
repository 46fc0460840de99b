package mapping

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestClickTokensMergeNewestFirstOnePerTokenBounded(t *testing.T) {
	now := time.UnixMilli(1764072000000)
	v, added, bad := MergeClickTokens("", []string{"AbCdEf1234"}, now)
	if v != "AbCdEf1234.1764072000000" || added != 1 || bad != 0 {
		t.Fatalf("%q %d %d", v, added, bad)
	}
	// A pair is taken as it is; a token seen again keeps its newest time;
	// malformed values and pairs are left out.
	v, added, bad = MergeClickTokens(v+"|junk", []string{"ZyXwVu9876.1764072100000", "short", "AbCdEf1234"}, now.Add(time.Minute))
	if v != "ZyXwVu9876.1764072100000|AbCdEf1234.1764072060000" || added != 2 || bad != 1 {
		t.Fatalf("%q %d %d", v, added, bad)
	}
	var many []string
	for i := 0; i < 8; i++ {
		many = append(many, fmt.Sprintf("Token%05d", i))
	}
	v, _, _ = MergeClickTokens("", many, now)
	if n := strings.Count(v, "|") + 1; n != MaxClickTokens || !strings.HasPrefix(v, "Token00003.") {
		t.Errorf("kept %d: %q", n, v)
	}
}
