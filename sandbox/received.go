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
	// Number is its arrival number, counted from 1 since the sandbox was
	// created (Reset does not restart it); GET /sandbox/events/<Number>
	// serves this record and the page links to it. It is 0 for a verdict
	// of Check, which keeps nothing. It is not part of the JSON.
	Number int `json:"-"`
}

// Refused is one events call the sandbox refused whole: answered with a
// status other than 207 and Amazon's {code, message} body, so that none of
// its events was validated or kept. It records IDs only: never the bearer
// token, nor a header value equal to a configured secret or token.
type Refused struct {
	// Time is when it arrived.
	Time time.Time `json:"time"`
	// API is "v2" or "v1".
	API string `json:"api"`
	// Status is the HTTP status answered, e.g. 403.
	Status int `json:"status"`
	// Code is Amazon's error code answered, e.g. FORBIDDEN.
	Code string `json:"code"`
	// Message is the message answered.
	Message string `json:"message"`
	// Fault says the answer was an injected fault (see Faults).
	Fault bool `json:"fault"`
	// EventCount is how many events the body's list (v2 events, v1
	// eventData) held; nil when that is unknown: the body was not a JSON
	// object with such a list, was larger than the sandbox reads, or could
	// not be read.
	EventCount *int `json:"eventCount"`
	// AccountID is the Amazon-Ads-AccountId header sent, "" when none.
	AccountID string `json:"accountId"`
	// ClientID is the API's client header sent (v2 Amazon-Ads-ClientId,
	// v1 Amazon-Advertising-API-ClientId), "" when none.
	ClientID string `json:"clientId"`
}

// clone returns a deep copy, so callers cannot reach the kept one.
func (r Refused) clone() Refused {
	if r.EventCount != nil {
		n := *r.EventCount
		r.EventCount = &n
	}
	return r
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

// cloner is a kept record that can copy itself deeply.
type cloner[T any] interface{ clone() T }

// ring keeps the last max records. It is not safe for concurrent use: the
// Server's mutex guards it.
type ring[T cloner[T]] struct {
	max   int
	items []T // oldest first until full, then a circle
	next  int // where the next record goes once full
}

func (g *ring[T]) add(r T) {
	if len(g.items) < g.max {
		g.items = append(g.items, r)
		return
	}
	g.items[g.next] = r
	g.next = (g.next + 1) % g.max
}

// newestFirst returns copies of the kept records, newest first.
func (g *ring[T]) newestFirst() []T {
	n := len(g.items)
	out := make([]T, 0, n)
	newest := n - 1
	if n == g.max {
		newest = (g.next - 1 + n) % n
	}
	for i := range n {
		out = append(out, g.items[(newest-i+n)%n].clone())
	}
	return out
}

// find returns a copy of the kept record that match accepts.
func (g *ring[T]) find(match func(T) bool) (T, bool) {
	for _, r := range g.items {
		if match(r) {
			return r.clone(), true
		}
	}
	var zero T
	return zero, false
}

func (g *ring[T]) clear() {
	g.items, g.next = nil, 0
}
