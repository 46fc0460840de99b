// Package sandbox is a local stand-in for Amazon Ads' Conversions API: the
// v2 and v1 events endpoints and the Login with Amazon token endpoint. It
// checks headers and bearer tokens, validates every event as Amazon's schema
// says, answers 207 with per-event errors like Amazon, keeps the last events
// it received with their verdicts, and lists them as JSON and on a page.
//
// It is a product feature (try a mapping before going live) and the tests'
// Amazon. It validates the raw JSON it receives on its own, sharing no
// encoding code with the production client, so it catches the client's bugs.
package sandbox

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Config configures a Server. Zero values give sensible defaults.
type Config struct {
	// AccountID, when set, is the only Amazon-Ads-AccountId accepted; else
	// any non-empty value is.
	AccountID string
	// ClientID, when set, is the only client ID accepted (header and token grant).
	ClientID string
	// ClientSecret, when set, is the only client_secret the token grant accepts.
	ClientSecret string
	// RefreshToken, when set, is the only refresh_token the token grant accepts.
	RefreshToken string
	// AccessTokens are static bearer tokens always accepted.
	AccessTokens []string
	// Keep is how many received events are kept; default 1000.
	Keep int
	// TokenLifetime is the expires_in of issued tokens; default 1h.
	TokenLifetime time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Faults is the initial fault injection.
	Faults Faults
}

// Faults makes the events endpoints misbehave, for tests.
type Faults struct {
	// Delay holds each events answer this long (cut short if the caller gives up).
	Delay time.Duration `json:"-"`
	// Status, when set, is answered instead of handling the call…
	Status int `json:"status,omitempty"`
	// FailFirst …for this many calls only; 0 means every call.
	FailFirst int `json:"fail_first,omitempty"`
	// RetryAfter is sent as Retry-After (seconds) with Status.
	RetryAfter int `json:"retry_after,omitempty"`
}

// Received is one event as the sandbox saw it, with its verdict.
type Received struct {
	// Time is when it arrived.
	Time time.Time `json:"time"`
	// API is v2 or v1.
	API string `json:"api"`
	// Index is its position in its batch, 0-based.
	Index int `json:"index"`
	// Name is the event's name.
	Name string `json:"name"`
	// ConversionType is its conversion type (v1 eventType).
	ConversionType string `json:"conversionType"`
	// EventID is the v2 eventId or v1 clientDedupeId.
	EventID string `json:"eventId"`
	// MatchKeyTypes lists the match keys' types, never their values.
	MatchKeyTypes []string `json:"matchKeyTypes"`
	// Value is the event's value, if any.
	Value *float64 `json:"value,omitempty"`
	// Currency is its currency code, if any.
	Currency string `json:"currencyCode,omitempty"`
	// Accepted is the verdict.
	Accepted bool `json:"accepted"`
	// Errors are Amazon-style reasons for a rejection.
	Errors []FieldError `json:"errors,omitempty"`
	// Event is the event as received.
	Event json.RawMessage `json:"event"`
}

// FieldError is one reason an event was rejected, as Amazon words it.
type FieldError struct {
	// Code is an Amazon error code such as FIELD_VALUE_IS_INVALID.
	Code string `json:"code"`
	// FieldLocation is the JSON path of the field, e.g. events[0].countryCode.
	FieldLocation string `json:"fieldLocation,omitempty"`
	// Message explains it.
	Message string `json:"message"`
}

// Stats counts what the sandbox handled.
type Stats struct {
	// Requests counts events calls answered (faults included).
	Requests int `json:"requests"`
	// Events counts events validated.
	Events int `json:"events"`
	// Accepted counts events that passed validation.
	Accepted int `json:"accepted"`
	// Rejected counts events that did not.
	Rejected int `json:"rejected"`
	// TokenGrants counts tokens issued.
	TokenGrants int `json:"tokenGrants"`
}

// Server is the sandbox. It is safe for concurrent use.
type Server struct {
	cfg Config

	mu       sync.Mutex
	faults   Faults
	failed   int
	received []Received // ring, oldest first once full
	next     int
	stats    Stats
	tokens   map[string]time.Time
}

// New returns a sandbox.
func New(cfg Config) *Server {
	if cfg.Keep <= 0 {
		cfg.Keep = 1000
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, faults: cfg.Faults, tokens: map[string]time.Time{}}
}

// ServeHTTP routes a request to the events, token, listing or page handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case amazon.PathV2:
		s.serveEvents(w, r, apiV2)
	case amazon.PathV1:
		s.serveEvents(w, r, apiV1)
	case "/auth/o2/token":
		s.serveToken(w, r)
	case "/sandbox/events":
		s.serveList(w, r)
	case "/sandbox/faults":
		s.serveFaults(w, r)
	case "/sandbox/reset":
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "BAD_REQUEST", "use POST")
			return
		}
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "/", "/sandbox/":
		s.servePage(w, r)
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such path in the sandbox: "+r.URL.Path)
	}
}

// SetFaults replaces the faults and restarts the FailFirst count.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.failed = f, 0
}

// Received returns the kept events, newest first.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, 0, len(s.received))
	n := len(s.received)
	for i := 0; i < n; i++ {
		// s.next is where the next event goes: the newest is just before it.
		out = append(out, s.received[(s.next-1-i+n)%n])
	}
	return out
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Reset forgets received events and counters (issued tokens stay valid).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received, s.next, s.stats = nil, 0, Stats{}
}

func (s *Server) keep(recs []Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.stats.Events++
		if r.Accepted {
			s.stats.Accepted++
		} else {
			s.stats.Rejected++
		}
		if len(s.received) < s.cfg.Keep {
			s.received = append(s.received, r)
			s.next = len(s.received) % s.cfg.Keep
			continue
		}
		s.received[s.next] = r
		s.next = (s.next + 1) % s.cfg.Keep
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"code": code, "message": message})
}
