package caddymodule

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// keyTypes are Amazon's match key types, in the order of its enum; a
// key type's index counts it in a quality.
var keyTypes = func() map[string]int {
	m := map[string]int{}
	for _, t := range amazon.MatchKeyTypes.Values() {
		m[t] = len(m)
	}
	return m
}()

// quality counts how matchable one event name's events were, since the
// destination started: every signal Amazon can match on, and the keys
// left out because Amazon's rules reject their value.
type quality struct {
	events, hashed, clickToken, ip, userAgent, covered atomic.Uint64
	keys, invalid                                      []atomic.Uint64 // by keyTypes index
}

func newQuality() *quality {
	return &quality{keys: make([]atomic.Uint64, len(keyTypes)), invalid: make([]atomic.Uint64, len(keyTypes))}
}

// qualities are a destination's qualities by event name (a configured
// name, so the set is bounded).
type qualities struct{ byName sync.Map }

func (q *qualities) of(name string) *quality {
	if v, ok := q.byName.Load(name); ok {
		return v.(*quality)
	}
	v, _ := q.byName.LoadOrStore(name, newQuality())
	return v.(*quality)
}

// observe counts a built event's signals and the keys its notes say were
// rejected. The coverage score's formula is here: an event is covered when
// it carries EMAIL, PHONE or a click token, the signals Amazon matches a
// person on most surely. An event sent through api v1 carries neither
// click tokens nor a user agent (v1 has no such fields).
func (q *qualities) observe(e *amazon.Event, notes *mapping.Notes, v1 bool) {
	qual := q.of(e.EventDescription.Name)
	qual.events.Add(1)
	var hashed, ip, strong bool
	for _, k := range e.MatchKeys {
		if i, ok := keyTypes[k.Type]; ok {
			qual.keys[i].Add(1)
		}
		hashed = hashed || amazon.IsHashedKeyType(k.Type)
		ip = ip || k.Type == "FIP"
		strong = strong || k.Type == "EMAIL" || k.Type == "PHONE"
	}
	if e.Consent != nil && e.Consent.Geo != nil && e.Consent.Geo.IPAddress != "" {
		ip = true
	}
	click := e.ArefMeasurementTokens != "" && !v1
	count(&qual.hashed, hashed)
	count(&qual.ip, ip)
	count(&qual.clickToken, click)
	count(&qual.userAgent, e.DeviceInfo != nil && e.DeviceInfo.UserAgent != "" && !v1)
	count(&qual.covered, strong || click)
	for _, d := range notes.DroppedKeys {
		if i, ok := keyTypes[d.Type]; ok && d.Reason != "missing" {
			qual.invalid[i].Add(1)
		}
	}
}

func count(c *atomic.Uint64, yes bool) {
	if yes {
		c.Add(1)
	}
}

// Share is a number of events and its share of all of them.
type Share struct {
	// Events is how many events had it.
	Events uint64 `json:"events"`
	// Share is Events divided by all events, 0 to 1 (4 decimals).
	Share float64 `json:"share"`
}

// KeyShare is how many events carried one match key type.
type KeyShare struct {
	// Type is the match key type.
	Type string `json:"type"`
	Share
	// Invalid counts the values of this type left out because Amazon's
	// normalisation rejects them.
	Invalid uint64 `json:"invalid,omitempty"`
}

// EventQuality is how matchable one event name's events were.
type EventQuality struct {
	// Name is the event's name in Amazon.
	Name string `json:"name"`
	// Events counts the events built (sent or queued to be).
	Events uint64 `json:"events"`
	// CoverageScore is the share of events with EMAIL, PHONE or a click
	// token.
	CoverageScore Share `json:"coverage_score"`
	// HashedKey is the share with at least one hashed (PII) key.
	HashedKey Share `json:"hashed_key"`
	// ClickToken is the share with Amazon's click token.
	ClickToken Share `json:"click_token"`
	// IP is the share with the client's IP (FIP key or consent geo).
	IP Share `json:"ip"`
	// UserAgent is the share with the browser's user agent.
	UserAgent Share `json:"user_agent"`
	// MatchKeys are the key types present or rejected, most common first.
	MatchKeys []KeyShare `json:"match_keys"`
}

// report returns the figures of every event name, most events first.
func (q *qualities) report() []EventQuality {
	out := []EventQuality{}
	q.byName.Range(func(k, v any) bool {
		out = append(out, v.(*quality).report(k.(string)))
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Events != out[j].Events {
			return out[i].Events > out[j].Events
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (qual *quality) report(name string) EventQuality {
	n := qual.events.Load()
	share := func(c uint64) Share {
		if n == 0 {
			return Share{Events: c}
		}
		return Share{Events: c, Share: math.Round(float64(c)/float64(n)*1e4) / 1e4}
	}
	r := EventQuality{
		Name: name, Events: n, CoverageScore: share(qual.covered.Load()), HashedKey: share(qual.hashed.Load()),
		ClickToken: share(qual.clickToken.Load()), IP: share(qual.ip.Load()), UserAgent: share(qual.userAgent.Load()),
		MatchKeys: []KeyShare{},
	}
	for t, i := range keyTypes {
		if present, invalid := qual.keys[i].Load(), qual.invalid[i].Load(); present+invalid > 0 {
			r.MatchKeys = append(r.MatchKeys, KeyShare{Type: t, Share: share(present), Invalid: invalid})
		}
	}
	sort.Slice(r.MatchKeys, func(i, j int) bool {
		if r.MatchKeys[i].Events != r.MatchKeys[j].Events {
			return r.MatchKeys[i].Events > r.MatchKeys[j].Events
		}
		return r.MatchKeys[i].Type < r.MatchKeys[j].Type
	})
	return r
}

var (
	qualityDesc = prometheus.NewDesc("amazon_capi_match_quality_events_total",
		"Events built, by event and signal: events (all), hashed_key (at least one hashed key), click_token, ip, user_agent, covered (EMAIL, PHONE or a click token: the coverage score is covered ÷ events).",
		[]string{"destination", "event", "signal"}, nil)
	keyPresentDesc = prometheus.NewDesc("amazon_capi_match_key_present_total",
		"Events that carried a match key type, by event and type.", []string{"destination", "event", "type"}, nil)
)

// collect sends a destination's quality counters.
func (q *qualities) collect(ch chan<- prometheus.Metric, destination string) {
	q.byName.Range(func(k, v any) bool {
		name, qual := k.(string), v.(*quality)
		for signal, c := range map[string]*atomic.Uint64{
			"events": &qual.events, "hashed_key": &qual.hashed, "click_token": &qual.clickToken,
			"ip": &qual.ip, "user_agent": &qual.userAgent, "covered": &qual.covered,
		} {
			ch <- prometheus.MustNewConstMetric(qualityDesc, prometheus.CounterValue, float64(c.Load()), destination, name, signal)
		}
		for t, i := range keyTypes {
			if n := qual.keys[i].Load(); n > 0 {
				ch <- prometheus.MustNewConstMetric(keyPresentDesc, prometheus.CounterValue, float64(n), destination, name, t)
			}
		}
		return true
	})
}
