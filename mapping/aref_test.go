package mapping

import (
	"fmt"
	"net/http"
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

func TestTheClickTokenCookieIsTheDefaultAndAMappingLineOverridesIt(t *testing.T) {
	req := checkoutRequest(checkoutJSON)
	req.HTTP.AddCookie(&http.Cookie{Name: "amzn_aref", Value: "AbCdEf1234.1764072000000"})
	req.HTTP.Header.Set("X-Aref", "ZyXwVu9876.1764072100000")
	opts := Options{ClickTokenCookie: "amzn_aref"}
	m, err := CompileWith("purchase", checkoutRule(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := m.Evaluate(req); e.ArefMeasurementTokens != "AbCdEf1234.1764072000000" {
		t.Errorf("from the cookie: %q", e.ArefMeasurementTokens)
	}
	r := checkoutRule()
	r.ArefMeasurementTokens = "header.X-Aref"
	if m, err = CompileWith("purchase", r, opts); err != nil {
		t.Fatal(err)
	}
	if e, _ := m.Evaluate(req); e.ArefMeasurementTokens != "ZyXwVu9876.1764072100000" {
		t.Errorf("from the mapping line: %q", e.ArefMeasurementTokens)
	}
}
