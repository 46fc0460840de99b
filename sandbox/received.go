package sandbox

import (
	"encoding/json"
	"slices"
	"time"
)

// Received is one event as the sandbox saw it, with its verdict.
type Received struct {
	// Time is when it arrived.
	Time time.Time `json:"time"`
	// API is "v2" or "v1".
	API string `json:"api"`
	// Index is its position in its batch, 0-based for both APIs.
	Index int `json:"index"`
	// Name is the event's name (v2 eventDescription.name, v1 name).
	Name string `json:"name"`
	// ConversionType is its conversion type (v1 eventType).
	ConversionType string `json:"conversionType"`
	// EventID is the v2 eventId or v1 clientDedupeId.
	EventID string `json:"eventId"`
	// MatchKeyTypes lists the match keys' types, never their values.
	MatchKeyTypes []string `json:"matchKeyTypes"`
	// Value is the event's value, if it had a numeric one.
	Value *float64 `json:"value,omitempty"`
	// Currency is its currency code, if any.
	Currency string `json:"currencyCode,omitempty"`
	// Accepted is the verdict.
	Accepted bool `json:"accepted"`
	// Errors are the Amazon-style reasons for a rejection.
	Errors []FieldError `json:"errors,omitempty"`
	// Event is the event as received.
	Event json.RawMessage `json:"event"`
}

// FieldError is one reason an event was rejected, as Amazon words it in a
// 207 answer's error list.
type FieldError struct {
	// Code is a code from Amazon's ErrorCode enum, e.g. FIELD_VALUE_IS_INVALID.
	Code string `json:"code"`
	// FieldLocation is the field's JSON path, e.g. events[0].matchKeys[1].values[0].
	FieldLocation string `json:"fieldLocation,omitempty"`
	// Message explains it. It never quotes a match-key value.
	Message string `json:"message"`
}

// clone returns a deep copy, so callers cannot reach the kept one.
func (r Received) clone() Received {
	r.MatchKeyTypes = slices.Clone(r.MatchKeyTypes)
	r.Errors = slices.Clone(r.Errors)
	r.Event = slices.Clone(r.Event)
	if r.Value != nil {
		v := *r.Value
		r.Value = &v
	}
	return r
}

// ring keeps the last max events. It is not safe for concurrent use: the
// Server's mutex guards it.
type ring struct {
	max   int
	items []Received // oldest first until full, then a circle
	next  int        // where the next event goes once full
}

func (g *ring) add(r Received) {
	if len(g.items) < g.max {
		g.items = append(g.items, r)
		return
	}
	g.items[g.next] = r
	g.next = (g.next + 1) % g.max
}

// newestFirst returns copies of the kept events, newest first.
func (g *ring) newestFirst() []Received {
	n := len(g.items)
	out := make([]Received, 0, n)
	newest := n - 1
	if n == g.max {
		newest = (g.next - 1 + n) % n
	}
	for i := range n {
		out = append(out, g.items[(newest-i+n)%n].clone())
	}
	return out
}

func (g *ring) clear() {
	g.items, g.next = nil, 0
}
