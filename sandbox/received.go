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
// size is about how many bytes r holds.
func (r Refused) size() int { return 256 + len(r.Message) }

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
// size is about how many bytes r holds.
func (r Received) size() int { return 256 + len(r.Event) + 64*len(r.Errors) }

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

// kept is a record the sandbox keeps: it can copy itself deeply and says
// about how many bytes it holds.
type kept[T any] interface {
	clone() T
	size() int
}

// ring keeps the newest records: at most max, and at most maxBytes of them
// (the newest is kept whatever its size).
type ring[T kept[T]] struct {
	max, maxBytes int
	items         []T // oldest first
	bytes         int
}

func (g *ring[T]) add(r T) {
	g.items = append(g.items, r)
	g.bytes += r.size()
	for len(g.items) > g.max || g.bytes > g.maxBytes && len(g.items) > 1 {
		var zero T
		g.bytes -= g.items[0].size()
		g.items[0] = zero
		g.items = g.items[1:] // append moves the rest to a new array once this one is used up
	}
}

// newestFirst returns copies of the kept records, newest first.
func (g *ring[T]) newestFirst() []T {
	out := make([]T, 0, len(g.items))
	for i := len(g.items) - 1; i >= 0; i-- {
		out = append(out, g.items[i].clone())
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
	g.items, g.bytes = nil, 0
}
