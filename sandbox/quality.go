package sandbox

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/tidwall/gjson"
)

// The match-quality figures: per event name, over the kept events (accepted
// and rejected alike), the share of events that carry each kind of signal
// Amazon matches on. They are counts and shares only: no match-key value,
// IP address, user agent or token is ever part of them.

// CoverageFormula is the coverage score's definition, as the page and
// GET /sandbox/quality state it.
const CoverageFormula = "coverage score = share of events with an EMAIL or PHONE match key or a click token (v2 arefMeasurementTokens, v1 amazonClickId)"

// QualityCounted says which events the figures count.
const QualityCounted = "the kept events, accepted and rejected alike"

// OtherKeyType is the type under which Quality counts match keys whose type
// is none of Amazon's (misspelt, lower case, not a string).
const OtherKeyType = "other"

// keyTypeOrder is the order the match-key types are listed in: the hashed
// (PII) types, then the raw ones (schema MatchKeyType; see hashedTypes).
var keyTypeOrder = []string{
	"EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "CITY", "STATE", "POSTAL",
	"MAID", "RAMP_ID", "MATCH_ID", "REAL_ID", "MERKLE_ID", "KANTAR_ID", "FIP",
	OtherKeyType,
}

// keyTypeBit is the bit of each of keyTypeOrder's types in signals.keys.
var keyTypeBit = func() map[string]uint32 {
	m := make(map[string]uint32, len(keyTypeOrder))
	for i, t := range keyTypeOrder {
		m[t] = 1 << i
	}
	return m
}()

// hashedKeyBits are the bits of the hashed (PII) types, coverageKeyBits
// those of EMAIL and PHONE.
var hashedKeyBits, coverageKeyBits = func() (h, c uint32) {
	for t := range hashedTypes {
		h |= keyTypeBit[t]
	}
	return h, keyTypeBit["EMAIL"] | keyTypeBit["PHONE"]
}()

// Quality is the match quality of the kept events, per event name, as the
// page's match-quality table and GET /sandbox/quality show it.
type Quality struct {
	// Counted says which events are counted (QualityCounted).
	Counted string `json:"counted"`
	// CoverageFormula defines the coverage score (CoverageFormula).
	CoverageFormula string `json:"coverage_formula"`
	// MatchKeyTypes lists the match-key types some counted event carries,
	// in the order the figures list them.
	MatchKeyTypes []string `json:"match_key_types"`
	// Names holds the figures per event name, the name with the most
	// events first (ties by name).
	Names []NameQuality `json:"names"`
	// All holds the figures over all counted events.
	All Figures `json:"all"`
}

// NameQuality is the match quality of the counted events of one name.
type NameQuality struct {
	// Name is the event name (v2 eventDescription.name, v1 name); "" for
	// events without one.
	Name string `json:"name"`
	Figures
}

// Figures are the match-quality figures of a group of events.
type Figures struct {
	// Events counts the events in the group.
	Events int `json:"events"`
	// Accepted counts the group's accepted events.
	Accepted int `json:"accepted"`
	// Rejected counts the group's rejected events.
	Rejected int `json:"rejected"`
	// CoverageScore: events with an EMAIL or PHONE key or a click token.
	CoverageScore Portion `json:"coverage_score"`
	// HashedKey: events with at least one key of a hashed (PII) type:
	// EMAIL, PHONE, FIRST_NAME, LAST_NAME, ADDRESS, CITY, STATE or POSTAL.
	HashedKey Portion `json:"hashed_key"`
	// ClickToken: events with a click token, a non-empty v2
	// arefMeasurementTokens or v1 amazonClickId.
	ClickToken Portion `json:"click_token"`
	// IP: events with a FIP match key or a consent.geo.ipAddress.
	IP Portion `json:"ip"`
	// UserAgent: events with a deviceInfo.userAgent (v2 only: v1 has no
	// such field).
	UserAgent Portion `json:"user_agent"`
	// MatchKeys: per match-key type the group's events carry, the events
	// with at least one key of that type, in MatchKeyTypes' order.
	MatchKeys []TypePortion `json:"match_keys"`
}

// Portion is how many of a group's events have something, and their share.
type Portion struct {
	// Events counts the group's events that have it.
	Events int `json:"events"`
	// Share is Events over the group's events, from 0 to 1, rounded to 4
	// decimals; 0 for an empty group.
	Share float64 `json:"share"`
}

// TypePortion is the Portion of a group's events with a key of one type.
type TypePortion struct {
	// Type is the match-key type, or OtherKeyType.
	Type string `json:"type"`
	Portion
}

// signals is what one event carries that Amazon matches on: whether, never
// what.
type signals struct {
	keys                 uint32 // keyTypeBit of the types with a non-empty value
	click, ip, userAgent bool
}

// signalsOf reads the signals of one kept event from its raw JSON. A match
// key counts when one of its values is a non-empty string.
func signalsOf(r Received) signals {
	var s signals
	ev := gjson.ParseBytes(r.Event)
	if !ev.IsObject() {
		return s
	}
	// v2 arefMeasurementTokens; v1 has no such field but amazonClickId
	// (SEG types.ts EventData), and no deviceInfo.
	clickField := "arefMeasurementTokens"
	if r.API == apiV1.name {
		clickField = "amazonClickId"
	}
	// One pass over the event's fields; a repeated field counts as its
	// last occurrence, as the validator reads it.
	var keys, click, device, consent gjson.Result
	ev.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "matchKeys":
			keys = v
		case clickField:
			click = v
		case "deviceInfo":
			device = v
		case "consent":
			consent = v
		}
		return true
	})
	nonEmpty := func(v gjson.Result) bool { return v.Type == gjson.String && v.Str != "" }
	keys.ForEach(func(_, k gjson.Result) bool {
		has := false
		k.Get("values").ForEach(func(_, v gjson.Result) bool {
			has = nonEmpty(v)
			return !has
		})
		if !has {
			return true
		}
		typ := k.Get("type")
		bit := keyTypeBit[typ.Str]
		if typ.Type != gjson.String || typ.Str == OtherKeyType || bit == 0 {
			bit = keyTypeBit[OtherKeyType]
		}
		s.keys |= bit
		return true
	})
	s.click = nonEmpty(click)
	s.userAgent = r.API != apiV1.name && device.IsObject() && nonEmpty(device.Get("userAgent"))
	s.ip = s.keys&keyTypeBit["FIP"] != 0 || consent.IsObject() && nonEmpty(consent.Get("geo.ipAddress"))
	return s
}

func (s signals) hashed() bool {
	return s.keys&hashedKeyBits != 0
}

func (s signals) covered() bool {
	return s.keys&coverageKeyBits != 0 || s.click
}

// tally counts a group's events before the shares are taken.
type tally struct {
	events, accepted, coverage, hashed, click, ip, userAgent int
	keys                                                     [32]int // events per keyTypeOrder index
}

func (t *tally) add(r Received, s signals) {
	t.events++
	if r.Accepted {
		t.accepted++
	}
	count := func(n *int, b bool) {
		if b {
			*n++
		}
	}
	count(&t.coverage, s.covered())
	count(&t.hashed, s.hashed())
	count(&t.click, s.click)
	count(&t.ip, s.ip)
	count(&t.userAgent, s.userAgent)
	for i := range keyTypeOrder {
		if s.keys&(1<<i) != 0 {
			t.keys[i]++
		}
	}
}

func (t *tally) figures() Figures {
	of := func(n int) Portion {
		p := Portion{Events: n}
		if t.events > 0 {
			p.Share = math.Round(float64(n)/float64(t.events)*1e4) / 1e4
		}
		return p
	}
	f := Figures{
		Events: t.events, Accepted: t.accepted, Rejected: t.events - t.accepted,
		CoverageScore: of(t.coverage), HashedKey: of(t.hashed), ClickToken: of(t.click),
		IP: of(t.ip), UserAgent: of(t.userAgent), MatchKeys: []TypePortion{},
	}
	for i, typ := range keyTypeOrder {
		if n := t.keys[i]; n > 0 {
			f.MatchKeys = append(f.MatchKeys, TypePortion{Type: typ, Portion: of(n)})
		}
	}
	return f
}

// qualityOf computes the match quality of recs.
func qualityOf(recs []Received) Quality {
	var all tally
	byName := map[string]*tally{}
	for _, r := range recs {
		s := signalsOf(r)
		all.add(r, s)
		t := byName[r.Name]
		if t == nil {
			t = &tally{}
			byName[r.Name] = t
		}
		t.add(r, s)
	}
	q := Quality{Counted: QualityCounted, CoverageFormula: CoverageFormula, MatchKeyTypes: []string{}, Names: []NameQuality{}, All: all.figures()}
	for _, tp := range q.All.MatchKeys {
		q.MatchKeyTypes = append(q.MatchKeyTypes, tp.Type)
	}
	for name, t := range byName {
		q.Names = append(q.Names, NameQuality{Name: name, Figures: t.figures()})
	}
	slices.SortFunc(q.Names, func(a, b NameQuality) int {
		return cmp.Or(cmp.Compare(b.Events, a.Events), cmp.Compare(a.Name, b.Name))
	})
	return q
}

// Quality returns the match quality of the kept events, per event name.
func (s *Server) Quality() Quality {
	return qualityOf(s.Received())
}

// serveQuality serves Quality as JSON.
func (s *Server) serveQuality(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, s.Quality())
}

// percent words a share for the page: a whole percentage, but never "0 %"
// for a share above 0 nor "100 %" for one below 1.
func percent(p Portion) string {
	n := math.Round(p.Share * 100)
	switch {
	case n == 0 && p.Events > 0:
		return "<1 %"
	case n == 100 && p.Share < 1:
		return ">99 %"
	}
	return strconv.Itoa(int(n)) + " %"
}

// barWidth is a share as a CSS width in percent, one decimal.
func barWidth(p Portion) string {
	return strconv.FormatFloat(math.Round(p.Share*1000)/10, 'f', -1, 64)
}
