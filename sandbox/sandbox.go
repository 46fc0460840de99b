// Package sandbox is a local stand-in for Amazon Ads' Conversions API: the
// v2 and v1 events endpoints and the Login with Amazon (LWA) token endpoint.
// It checks headers and bearer tokens, validates every event as Amazon's
// schema says, answers 207 with per-event errors like Amazon, keeps the last
// events it received with their verdicts and the last calls it refused
// whole, and lists them as JSON and on a self-refreshing page, with a
// match-quality table per event name (counts and shares only). Faults
// (delays, error statuses, Retry-After) can be injected at run time.
//
// It is a product feature (operators try a mapping against it before going
// live) and the tests' Amazon. It validates the raw JSON it receives on its
// own, sharing no encoding code with the production client, so it catches
// the client's bugs. It never forwards anything to Amazon, and it never logs
// or renders match-key values.
//
// Routes (exact paths; mount it behind a prefix-stripping handler if needed):
//
//	POST /adsApi/v1/create/events   v2 events (amazon.PathV2)
//	POST /events/v1                 v1 events (amazon.PathV1)
//	POST /adsApi/v1/query/advertiserAccounts  the account list (PathAdvertiserAccounts)
//	POST /auth/o2/token             LWA refresh-token grant
//	GET  /sandbox/events            kept events and stats as JSON
//	GET  /sandbox/events/<n>        kept event number n as JSON, as listed
//	GET  /sandbox/refused           kept calls refused whole as JSON
//	GET  /sandbox/quality           match quality of the kept events per event name, as JSON
//	POST /sandbox/reset             forget events, refused calls and counters
//	GET  /sandbox/faults            current faults as JSON
//	POST /sandbox/faults            replace faults, e.g. {"delay":"2s","status":503,"fail_first":3,"retry_after":1}
//	GET  / and /sandbox/            the page listing what arrived
//
// The page and the /sandbox/ endpoints answer only at localhost, an IP
// address or a name in Config.Hosts, and take no state change from another
// site (see Server.guard): it is safe to leave running on a laptop.
//
// Sandbox (handler.go) is its Caddy HTTP handler, amazon_capi_sandbox.
// Register adds it to Caddy; package sandbox/caddysandbox calls it, for the
// demo and builds that want a local Amazon. The module's own package does
// not: a production build has only what dry_run and try need of this
// package, Check (the validator built from Amazon's schema).
package sandbox

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Config configures a Server. Zero values give sensible defaults.
type Config struct {
	// AccountID, when set, is the only Amazon-Ads-AccountId accepted; else
	// any non-empty value is. The advertiser-accounts query lists it as the
	// account's dspAdvertiserId (DemoDSPAdvertiserID when unset).
	AccountID string
	// Region is the Amazon region the sandbox stands in for: "na" (the
	// default), "eu" or "fe", in any case. With "eu" every event must carry
	// a consent signal (schema CreateConsent: "For EU advertisers, it is
	// required to provide one of geo, amazonConsent, tcf, or gpp"); like
	// Segment (SEG trackConversion/utils.ts validateConsent), the sandbox
	// takes the advertiser to be an EU one when its API host is the EU one.
	// It also sets the region of the listed account.
	Region string
	// ClientID, when set, is the only client ID accepted, in the client
	// header and in the token grant; else any non-empty value is.
	ClientID string
	// ClientSecret, when set, is the only client_secret the token grant accepts.
	ClientSecret string
	// RefreshToken, when set, is the only refresh_token the token grant accepts.
	RefreshToken string
	// AccessTokens are static bearer tokens always accepted, besides the
	// tokens the sandbox issued.
	AccessTokens []string
	// Keep is how many received events are kept, and how many calls
	// refused whole; default 1000 of each.
	Keep int
	// KeepBytes bounds the kept events' size, besides their number: the
	// oldest are forgotten past it; default 32 MiB.
	KeepBytes int
	// Hosts are the host names, besides localhost (and *.localhost) and IP
	// addresses, at which the sandbox serves its page and its /sandbox/…
	// endpoints. A request naming another host is refused: a web page the
	// developer visits could otherwise reach them by DNS rebinding.
	Hosts []string
	// TokenLifetime is the expires_in of issued tokens; default 1h.
	TokenLifetime time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Faults is the initial fault injection.
	Faults Faults
}

// Stats counts what the sandbox handled since it started or was last reset.
type Stats struct {
	// Requests counts events calls answered, fault answers included.
	Requests int `json:"requests"`
	// Events counts events validated.
	Events int `json:"events"`
	// Accepted counts events that passed validation.
	Accepted int `json:"accepted"`
	// Rejected counts events that did not.
	Rejected int `json:"rejected"`
	// TokenGrants counts access tokens issued.
	TokenGrants int `json:"tokenGrants"`
}

// Server is the sandbox, an http.Handler. It is safe for concurrent use.
type Server struct {
	cfg Config

	mu       sync.Mutex
	faults   Faults
	failed   int // fault answers given since the faults were set
	received ring[Received]
	refused  ring[Refused]
	numbered int // the last Received.Number given
	stats    Stats
	tokens   map[string]time.Time // issued token → expiry
}

// New returns a sandbox configured by cfg.
func New(cfg Config) *Server {
	if cfg.Keep <= 0 {
		cfg.Keep = 1000
	}
	if cfg.KeepBytes <= 0 {
		cfg.KeepBytes = 32 << 20
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.AccessTokens = append([]string(nil), cfg.AccessTokens...)
	return &Server{
		cfg:      cfg,
		faults:   cfg.Faults,
		received: ring[Received]{max: cfg.Keep, maxBytes: cfg.KeepBytes},
		refused:  ring[Refused]{max: cfg.Keep, maxBytes: cfg.KeepBytes},
		tokens:   map[string]time.Time{},
	}
}

// ServeHTTP routes a request to the events, advertiser-accounts, token,
// listing, one-event, refused-calls, match-quality, faults, reset or page
// handler; any other path is answered 404 NOT_FOUND.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if own := r.URL.Path == "" || r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/sandbox"); own && !s.guard(w, r) {
		return
	}
	switch path := r.URL.Path; path {
	case amazon.PathV2:
		s.serveEvents(w, r, apiV2)
	case amazon.PathV1:
		s.serveEvents(w, r, apiV1)
	case PathAdvertiserAccounts:
		s.serveAdvertiserAccounts(w, r)
	case "/auth/o2/token":
		s.serveToken(w, r)
	case "/sandbox/events":
		s.serveList(w, r)
	case "/sandbox/refused":
		s.serveRefused(w, r)
	case "/sandbox/quality":
		s.serveQuality(w, r)
	case "/sandbox/faults":
		s.serveFaults(w, r)
	case "/sandbox/reset":
		s.serveReset(w, r)
	case "", "/", "/sandbox", "/sandbox/":
		s.servePage(w, r)
	default:
		if n, ok := strings.CutPrefix(path, eventPathPrefix); ok {
			s.serveEvent(w, r, n)
			return
		}
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such path in the Amazon sandbox: "+path)
	}
}

// eu reports whether the sandbox stands in for Amazon's EU region.
func (c Config) eu() bool {
	return strings.EqualFold(strings.TrimSpace(c.Region), "eu")
}

// SetFaults replaces the faults and restarts the FailFirst count.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.failed = f, 0
}

// currentFaults returns the faults in force.
func (s *Server) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Received returns copies of the kept events, newest first.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received.newestFirst()
}

// ReceivedNumber returns a copy of the kept event whose Number is n; false
// when no kept event has it (not yet arrived, or no longer kept).
func (s *Server) ReceivedNumber(n int) (Received, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received.find(func(r Received) bool { return r.Number == n })
}

// Refused returns copies of the kept calls refused whole, newest first.
func (s *Server) Refused() []Refused {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused.newestFirst()
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Reset forgets received events, refused calls and counters. Issued tokens
// stay valid, the faults stay as they are, and event numbers go on from
// where they were, so that a link to a forgotten event never leads to
// another one.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received.clear()
	s.refused.clear()
	s.stats = Stats{}
}

// record counts, numbers and keeps one batch's verdicts.
func (s *Server) record(recs []Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.numbered++
		r.Number = s.numbered
		s.stats.Events++
		if r.Accepted {
			s.stats.Accepted++
		} else {
			s.stats.Rejected++
		}
		s.received.add(r)
	}
}

func (s *Server) countRequest() {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
}

// allow answers 405 and returns false unless r uses one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, "BAD_REQUEST", "method "+r.Method+" is not allowed here; use "+strings.Join(methods, " or "))
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with Amazon's whole-request error body {code, message}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"code": code, "message": message})
}

// guard refuses a request to the sandbox's own page and endpoints (not the
// Amazon API it plays) that names a host it does not answer to (see
// Config.Hosts), or that changes its state from another site (a form or a
// script on a page the developer visits), as Caddy's admin endpoint does.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) bool {
	if !s.answersTo(r.Host) {
		writeError(w, http.StatusForbidden, "FORBIDDEN", "the sandbox serves its page and /sandbox/ endpoints at localhost, an IP address, or a host named with the host option; not at "+strconv.Quote(r.Host))
		return false
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	site := r.Header.Get("Sec-Fetch-Site")
	origin := r.Header.Get("Origin")
	if u, err := url.Parse(origin); site != "" && site != "same-origin" && site != "none" || origin != "" && (err != nil || u.Host != r.Host) {
		writeError(w, http.StatusForbidden, "FORBIDDEN", "the sandbox's state is changed from its own page or a tool such as curl, not from another site")
		return false
	}
	return true
}

// answersTo reports whether host (with or without a port) is localhost, an
// IP address or one of Config.Hosts.
func (s *Server) answersTo(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil {
		return true
	}
	for _, h := range s.cfg.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}
