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
	v, added, bad := MergeClickTokens("", []string{"AbCdEf1234"}, now, 0)
	if v != "AbCdEf1234.1764072000000" || added != 1 || bad != 0 {
		t.Fatalf("%q %d %d", v, added, bad)
	}
	// A pair is taken as it is; a token seen again keeps its newest time;
	// malformed values and pairs are left out.
	v, added, bad = MergeClickTokens(v+"|junk", []string{"ZyXwVu9876.1764072100000", "short", "AbCdEf1234"}, now.Add(time.Minute), 0)
	if v != "ZyXwVu9876.1764072100000|AbCdEf1234.1764072060000" || added != 2 || bad != 1 {
		t.Fatalf("%q %d %d", v, added, bad)
	}
	var many []string
	for i := 0; i < 8; i++ {
		many = append(many, fmt.Sprintf("Token%05d", i))
	}
	v, _, _ = MergeClickTokens("", many, now, 0)
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

func TestAClickCountsForItsWindowOnlyAndNeverFromTheFuture(t *testing.T) {
	now := time.UnixMilli(1764072000000)
	day := 24 * time.Hour
	old := fmt.Sprintf("OldToken01.%d", now.Add(-15*day).UnixMilli())
	recent := fmt.Sprintf("NewToken01.%d", now.Add(-day).UnixMilli())
	future := fmt.Sprintf("Future0001.%d", now.Add(time.Hour).UnixMilli())
	v, added, bad := MergeClickTokens(old+"|"+recent, []string{future}, now, 14*day)
	if v != recent || added != 0 || bad != 1 {
		t.Errorf("%q %d %d", v, added, bad)
	}
	// An event keeps only the clicks within the window.
	r := checkoutRule()
	r.Timestamp = "" // the time the request arrived (the body's is a year after now)
	m, err := CompileWith("purchase", r, Options{ClickTokenCookie: "amzn_aref", ClickTokenMaxAge: 14 * day})
	if err != nil {
		t.Fatal(err)
	}
	req := checkoutRequest(checkoutJSON)
	req.Arrived = now
	req.HTTP.AddCookie(&http.Cookie{Name: "amzn_aref", Value: old + "|" + recent})
	if e, err := m.Evaluate(req); err != nil || e.ArefMeasurementTokens != recent {
		t.Errorf("the event carries %q (%v)", e.ArefMeasurementTokens, err)
	}
}
