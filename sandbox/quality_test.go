package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Planted values: distinctive, so that a leak of any of them shows.
const (
	plantEmailA   = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	plantEmailB   = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
	plantFirst    = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
	plantPhone    = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
	plantPhoneV1  = "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5"
	plantFIP      = "198.51.100.23"
	plantGeoIP    = "192.0.2.99"
	plantGeoIPV1  = "192.0.2.150"
	plantUA       = "PlantedBrowser/9.9 (Quality; Leak)"
	plantAref     = "Pl4nt3dTok.1700000000000"
	plantClickID  = "PLANTEDCLICK77"
	plantMAID     = "maid-planted-4242"
	plantMAIDV1   = "maid-planted-v1-5353"
	plantArefInV1 = "V1ArefTok0.1700000000001"
)

// plantedValues are all the values the quality tests send.
var plantedValues = []string{plantEmailA, plantEmailB, plantFirst, plantPhone, plantPhoneV1, plantFIP, plantGeoIP,
	plantGeoIPV1, plantUA, plantAref, plantClickID, plantMAID, plantMAIDV1, plantArefInV1, "PlantedBrowser", "Pl4nt3d", "PLANTED"}

// qualityEvent is a valid v2 purchase with only the given match keys and no consent.
func qualityEvent(id string, keys ...any) map[string]any {
	e := v2Event(id)
	delete(e, "consent")
	e["matchKeys"] = keys
	return e
}

// qualityV1Event is a valid v1 sign-up with only the given match keys and no consent.
func qualityV1Event(id string, keys ...any) map[string]any {
	e := v1Event(id)
	e["name"] = "signup"
	delete(e, "consent")
	e["matchKeys"] = keys
	return e
}

// sendQualityMix sends the known mix: 4 v2 purchases (2 with EMAIL, 1 with
// PHONE and a click token, 1 with FIP only; one rejected) and 3 v1 sign-ups.
func sendQualityMix(t *testing.T, s *Server) {
	t.Helper()
	e1 := qualityEvent("p1", key("EMAIL", plantEmailA))
	e1["deviceInfo"] = map[string]any{"userAgent": plantUA}
	e1["consent"] = map[string]any{"geo": map[string]any{"ipAddress": plantGeoIP}}
	e2 := qualityEvent("p2", key("EMAIL", plantEmailB), key("FIRST_NAME", plantFirst))
	e2["countryCode"] = "XX" // rejected, still counted
	e3 := qualityEvent("p3", key("PHONE", plantPhone))
	e3["arefMeasurementTokens"] = plantAref
	e4 := qualityEvent("p4", key("FIP", plantFIP))
	if got := v2(e1, e2, e3, e4).do(t, s); !equalInts(got.indexes("success"), []int{0, 2, 3}) || !equalInts(got.indexes("error"), []int{1}) {
		t.Fatalf("v2 mix: %s", got.raw)
	}

	a := qualityV1Event("s1", key("PHONE", plantPhoneV1))
	a["amazonClickId"] = plantClickID
	b := qualityV1Event("s2", key("MAID", plantMAIDV1))
	b["consent"] = map[string]any{"geo": map[string]any{"ipAddress": plantGeoIPV1}}
	// v1 has neither arefMeasurementTokens nor deviceInfo: neither counts.
	c := qualityV1Event("s3", key("MAID", plantMAID))
	c["arefMeasurementTokens"] = plantArefInV1
	c["deviceInfo"] = map[string]any{"userAgent": plantUA}
	if got := v1(a, b, c).do(t, s); len(got.indexes("error")) != 0 {
		t.Fatalf("v1 mix: %s", got.raw)
	}
}

func portion(n int, share float64) Portion { return Portion{Events: n, Share: share} }

func TestQualityFiguresForAKnownMix(t *testing.T) {
	s := newSandbox(Config{})
	sendQualityMix(t, s)

	want := Quality{
		Counted:         QualityCounted,
		CoverageFormula: CoverageFormula,
		MatchKeyTypes:   []string{"EMAIL", "PHONE", "FIRST_NAME", "MAID", "FIP"},
		Names: []NameQuality{
			{Name: "purchase", Figures: Figures{
				Events: 4, Accepted: 3, Rejected: 1,
				CoverageScore: portion(3, 0.75), HashedKey: portion(3, 0.75), ClickToken: portion(1, 0.25),
				IP: portion(2, 0.5), UserAgent: portion(1, 0.25),
				MatchKeys: []TypePortion{{"EMAIL", portion(2, 0.5)}, {"PHONE", portion(1, 0.25)}, {"FIRST_NAME", portion(1, 0.25)}, {"FIP", portion(1, 0.25)}},
			}},
			{Name: "signup", Figures: Figures{
				Events: 3, Accepted: 3,
				CoverageScore: portion(1, 0.3333), HashedKey: portion(1, 0.3333), ClickToken: portion(1, 0.3333),
				IP: portion(1, 0.3333), UserAgent: portion(0, 0),
				MatchKeys: []TypePortion{{"PHONE", portion(1, 0.3333)}, {"MAID", portion(2, 0.6667)}},
			}},
		},
		All: Figures{
			Events: 7, Accepted: 6, Rejected: 1,
			CoverageScore: portion(4, 0.5714), HashedKey: portion(4, 0.5714), ClickToken: portion(2, 0.2857),
			IP: portion(3, 0.4286), UserAgent: portion(1, 0.1429),
			MatchKeys: []TypePortion{{"EMAIL", portion(2, 0.2857)}, {"PHONE", portion(2, 0.2857)}, {"FIRST_NAME", portion(1, 0.1429)},
				{"MAID", portion(2, 0.2857)}, {"FIP", portion(1, 0.1429)}},
		},
	}
	if got := s.Quality(); !reflect.DeepEqual(got, want) {
		t.Errorf("Quality() =\n%s\nwant\n%s", mustJSON(got), mustJSON(want))
	}

	// GET /sandbox/quality serves the same figures.
	got := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/quality", nil))
	if got.status != 200 || got.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	var served Quality
	if err := json.Unmarshal(got.raw, &served); err != nil || !reflect.DeepEqual(served, want) {
		t.Errorf("/sandbox/quality = %s (%v)", got.raw, err)
	}
	purchase := got.body["names"].([]any)[0].(map[string]any)
	if purchase["name"] != "purchase" || purchase["coverage_score"].(map[string]any)["share"] != 0.75 {
		t.Errorf("purchase: %v", purchase)
	}
	if k := purchase["match_keys"].([]any)[0].(map[string]any); k["type"] != "EMAIL" || k["events"] != 2.0 || k["share"] != 0.5 {
		t.Errorf("purchase's first match key: %v", k)
	}
	checkSnakeCase(t, "", got.body)
	if !strings.Contains(got.body["counted"].(string), "accepted and rejected") ||
		!strings.Contains(got.body["coverage_formula"].(string), "EMAIL or PHONE match key or a click token") {
		t.Errorf("counted/formula: %v / %v", got.body["counted"], got.body["coverage_formula"])
	}
}

var snakeCase = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)

// checkSnakeCase fails on any object key in v that is not snake_case.
func checkSnakeCase(t *testing.T, at string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !snakeCase.MatchString(k) {
				t.Errorf("key %q at %s is not snake_case", k, at)
			}
			checkSnakeCase(t, at+"."+k, x)
		}
	case []any:
		for _, x := range v {
			checkSnakeCase(t, at+"[]", x)
		}
	}
}

func TestQualityNeverShowsAValue(t *testing.T) {
	s := newSandbox(Config{})
	sendQualityMix(t, s)
	for _, path := range []string{"/sandbox/quality", "/", "/sandbox/"} {
		got := serve(t, s, httptest.NewRequest(http.MethodGet, path, nil))
		if got.status != 200 {
			t.Fatalf("%s: %d", path, got.status)
		}
		for _, v := range plantedValues {
			if strings.Contains(strings.ToLower(string(got.raw)), strings.ToLower(v)) {
				t.Errorf("%s shows %q", path, v)
			}
		}
	}
	// The values did arrive: the events' own JSON holds them, as sent.
	events := string(serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/events", nil)).raw)
	for _, v := range []string{plantEmailA, plantAref, plantClickID, plantUA, plantFIP} {
		if !strings.Contains(events, v) {
			t.Errorf("the test sent no %q", v)
		}
	}
}

// qualityRow is the page's match-quality row of one event name.
func qualityRow(t *testing.T, page, name string) string {
	t.Helper()
	start := strings.Index(page, `<tr class="quality" data-name="`+name+`">`)
	if start < 0 {
		t.Fatalf("the page has no match-quality row for %q", name)
	}
	end := strings.Index(page[start:], "</tr>")
	return page[start : start+end]
}

func TestPageShowsTheMatchQualityTable(t *testing.T) {
	s := newSandbox(Config{})
	sendQualityMix(t, s)
	page := string(serve(t, s, httptest.NewRequest(http.MethodGet, "/", nil)).raw)

	for _, want := range []string{
		`<h2>Match quality</h2>`, `<table id="quality">`,
		`<strong>Coverage score</strong> = share of events with an EMAIL or PHONE match key or a click token.`,
		`accepted and rejected alike`, `the last 1000`, `Counts and shares only, never a value.`, `/sandbox/quality`,
		`<th>coverage score</th><th>hashed (PII) key</th><th>click token</th><th>IP</th><th>user agent</th><th>match keys by type</th>`,
		`<tr class="quality all">`, `<td class="name">all events</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if q, r := strings.Index(page, `id="quality"`), strings.Index(page, `id="refused"`); q < 0 || q > r {
		t.Errorf("the match-quality table is not first")
	}
	if p, sg := strings.Index(page, `data-name="purchase"`), strings.Index(page, `data-name="signup"`); p > sg {
		t.Errorf("the name with the most events is not first")
	}

	purchase := qualityRow(t, page, "purchase")
	for _, want := range []string{
		`<td class="name">purchase</td>`,
		`<td class="events">4<div class="sub">3 accepted · 1 rejected</div></td>`,
		`<td class="share coverage"><span class="meter" data-events="3" data-share="0.75" title="3 events"><span class="bar"><span class="fill" style="width: 75%"></span></span><span class="pct">75 %</span></span></td>`,
		`<td class="share hashed"><span class="meter" data-events="3" data-share="0.75" title="3 events">`,
		`<td class="share click"><span class="meter" data-events="1" data-share="0.25" title="1 event"><span class="bar"><span class="fill" style="width: 25%"></span>`,
		`<td class="share ip"><span class="meter" data-events="2" data-share="0.5" title="2 events"><span class="bar"><span class="fill" style="width: 50%"></span>`,
		`<td class="share user-agent"><span class="meter" data-events="1" data-share="0.25" title="1 event">`,
		`<span class="kt">EMAIL</span><span class="meter" data-events="2" data-share="0.5" title="2 events"><span class="bar"><span class="fill" style="width: 50%"></span></span><span class="pct">50 %</span>`,
		`<span class="kt">PHONE</span>`, `<span class="kt">FIRST_NAME</span>`, `<span class="kt">FIP</span>`,
	} {
		if !strings.Contains(purchase, want) {
			t.Errorf("the purchase row lacks %q:\n%s", want, purchase)
		}
	}
	if strings.Contains(purchase, `<span class="kt">MAID</span>`) {
		t.Errorf("the purchase row lists a type none of its events has")
	}
	signup := qualityRow(t, page, "signup")
	for _, want := range []string{
		`<td class="share coverage"><span class="meter" data-events="1" data-share="0.3333" title="1 event"><span class="bar"><span class="fill" style="width: 33.3%"></span></span><span class="pct">33 %</span>`,
		`<td class="share user-agent"><span class="meter" data-events="0" data-share="0" title="0 events"><span class="bar"><span class="fill" style="width: 0%"></span></span><span class="pct">0 %</span>`,
		`<span class="kt">MAID</span><span class="meter" data-events="2" data-share="0.6667" title="2 events"><span class="bar"><span class="fill" style="width: 66.7%"></span></span><span class="pct">67 %</span>`,
	} {
		if !strings.Contains(signup, want) {
			t.Errorf("the signup row lacks %q:\n%s", want, signup)
		}
	}
	if n := strings.Count(page, `<span class="bar">`); n != (5+4)+(5+2)+(5+5) {
		t.Errorf("%d bars", n)
	}
	if strings.Contains(page, "<script") {
		t.Errorf("the page has a script")
	}
}

func TestQualityCountsKeptEventsOnly(t *testing.T) {
	s := newSandbox(Config{Keep: 2})
	v2(qualityEvent("a", key("EMAIL", hashedEmail)), qualityEvent("b", key("FIP", "203.0.113.7")), qualityEvent("c", key("FIP", "203.0.113.8"))).do(t, s)
	q := s.Quality()
	if len(q.Names) != 1 || q.Names[0].Events != 2 || q.Names[0].CoverageScore != portion(0, 0) || q.Names[0].IP != portion(2, 1) {
		t.Errorf("%s", mustJSON(q))
	}
	if !strings.Contains(string(serve(t, s, httptest.NewRequest(http.MethodGet, "/", nil)).raw), "the last 2)") {
		t.Errorf("the page does not say how many events are kept")
	}

	s.Reset()
	got := serve(t, s, httptest.NewRequest(http.MethodGet, "/sandbox/quality", nil))
	if names, ok := got.body["names"].([]any); !ok || len(names) != 0 || got.body["all"].(map[string]any)["events"] != 0.0 ||
		len(got.body["match_key_types"].([]any)) != 0 || got.body["all"].(map[string]any)["match_keys"] == nil {
		t.Errorf("after a reset: %s", got.raw)
	}
	page := string(serve(t, s, httptest.NewRequest(http.MethodGet, "/", nil)).raw)
	if !strings.Contains(page, `<tr id="no-quality"><td colspan="8">No event kept yet.</td></tr>`) || strings.Contains(page, "all events") {
		t.Errorf("the empty match-quality table is wrong")
	}
}

func TestQualityOddEvents(t *testing.T) {
	s := newSandbox(Config{})
	odd := qualityEvent("odd",
		key("email", hashedEmail),                                // not one of Amazon's types
		map[string]any{"type": 42, "values": []any{hashedEmail}}, // not a string
		key("PHONE", ""),                                         // no value: does not count
		key("FIRST_NAME"),                                        // no value at all
		map[string]any{"type": "EMAIL"},                          // no values field
	)
	odd["arefMeasurementTokens"] = "" // empty: no click token
	odd["deviceInfo"] = map[string]any{"userAgent": ""}
	noName := qualityEvent("nameless", key("MAID", "m-1"))
	delete(noName["eventDescription"].(map[string]any), "name")
	got := call{path: pathV2, body: []byte(`{"events":[` + mustJSON(odd) + `,` + mustJSON(noName) + `,"not an object",7]}`)}.do(t, s)
	if len(got.indexes("error")) != 4 {
		t.Fatalf("%s", got.raw)
	}
	q := s.Quality()
	if len(q.Names) != 2 || q.Names[0].Name != "" || q.Names[0].Events != 3 || q.Names[1].Name != "purchase" {
		t.Fatalf("%s", mustJSON(q))
	}
	p := q.Names[1]
	if p.CoverageScore.Events != 0 || p.HashedKey.Events != 0 || p.ClickToken.Events != 0 || p.UserAgent.Events != 0 ||
		!reflect.DeepEqual(p.MatchKeys, []TypePortion{{OtherKeyType, portion(1, 1)}}) {
		t.Errorf("odd event: %s", mustJSON(p))
	}
	if n := q.Names[0]; n.Rejected != 3 || !reflect.DeepEqual(n.MatchKeys, []TypePortion{{"MAID", portion(1, 0.3333)}}) {
		t.Errorf("nameless: %s", mustJSON(n))
	}
	page := string(serve(t, s, httptest.NewRequest(http.MethodGet, "/", nil)).raw)
	if !strings.Contains(qualityRow(t, page, ""), `<td class="name"><em>(no name)</em></td>`) {
		t.Errorf("the nameless row")
	}
}

func TestQualityEndpointMethods(t *testing.T) {
	s := newSandbox(Config{})
	if got := serve(t, s, httptest.NewRequest(http.MethodPost, "/sandbox/quality", nil)); got.status != 405 || got.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v", got.status, got.header)
	}
	if got := serve(t, s, httptest.NewRequest(http.MethodHead, "/sandbox/quality", nil)); got.status != 200 {
		t.Errorf("HEAD: %d", got.status)
	}
}

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		p    Portion
		want string
	}{
		{portion(0, 0), "0 %"}, {portion(1, 1), "100 %"}, {portion(3, 0.75), "75 %"},
		{portion(1, 0.001), "<1 %"}, {portion(999, 0.999), ">99 %"}, {portion(2, 0.6667), "67 %"},
	} {
		if got := percent(c.p); got != c.want {
			t.Errorf("percent(%v) = %q, want %q", c.p, got, c.want)
		}
	}
	if got := barWidth(portion(2, 0.6667)); got != "66.7" {
		t.Errorf("barWidth = %q", got)
	}
}

func TestConcurrentQualityIsSafe(t *testing.T) {
	s := newSandbox(Config{Keep: 30})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				s.ServeHTTP(httptest.NewRecorder(), v2(v2Event(fmt.Sprintf("e%d-%d", g, i))).request())
				s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/sandbox/quality", nil))
				s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			}
		})
	}
	wg.Wait()
	if q := s.Quality(); q.All.Events != 30 || q.All.CoverageScore != portion(30, 1) {
		t.Errorf("%s", mustJSON(q.All))
	}
}

// BenchmarkQualityOf1000 is the match-quality table's cost for a full
// default keep of 1000 events, paid by each page view and GET
// /sandbox/quality.
func BenchmarkQualityOf1000(b *testing.B) {
	s := newSandbox(Config{})
	for i := range 2 {
		events := make([]any, 500)
		for j := range events {
			e := v2Event(fmt.Sprintf("ev-%d-%d", i, j))
			e["arefMeasurementTokens"] = "AbCdEf1234.1700000000000"
			e["deviceInfo"] = map[string]any{"userAgent": "Mozilla/5.0"}
			events[j] = e
		}
		s.ServeHTTP(httptest.NewRecorder(), call{path: pathV2, body: map[string]any{"events": events}}.request())
	}
	recs := s.Received()
	if len(recs) != 1000 {
		b.Fatalf("kept %d", len(recs))
	}
	b.ReportAllocs()
	for b.Loop() {
		qualityOf(recs)
	}
}
