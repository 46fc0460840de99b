package caddymodule

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/fleet"
	"github.com/shopsignal/caddy-amazon-capi/forward"
)

// DefaultMaxBody is how much of a request body is teed when max_body is unset.
const DefaultMaxBody = 64 << 10

// Destination says where and how events are sent: one Amazon Ads account.
// Secret fields should be given as {env.*} or {file.*} placeholders; they are
// resolved when the config loads and never logged.
type Destination struct {
	// Region is na, eu or fe: it picks the API host and the Login with
	// Amazon token URL. Default: na.
	Region string `json:"region,omitempty"`
	// AccountID is sent in Amazon-Ads-AccountId, as given (Amazon's samples
	// use the advertiser ID; Adobe's extension calls it Entity ID). The
	// Caddyfile also accepts entity_id.
	AccountID string `json:"account_id,omitempty"`
	// ClientID is the Login with Amazon client ID.
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret is the Login with Amazon client secret.
	ClientSecret string `json:"client_secret,omitempty"`
	// RefreshToken is the Login with Amazon refresh token; access tokens are
	// fetched with it, cached and renewed before they expire.
	RefreshToken string `json:"refresh_token,omitempty"`
	// AccessToken is a static access token, used instead of the refresh
	// trio. It expires after about an hour; prefer refresh_token.
	AccessToken string `json:"access_token,omitempty"`
	// Endpoint overrides the region's API base URL, e.g. the sandbox's.
	Endpoint string `json:"endpoint,omitempty"`
	// TokenURL overrides the region's Login with Amazon token URL.
	TokenURL string `json:"token_url,omitempty"`
	// API is v2 (default; POST /adsApi/v1/create/events) or v1 (legacy
	// POST /events/v1).
	API string `json:"api,omitempty"`
	// MaxBody is how many bytes of a matched request's body are read for
	// the mapping. A longer body still reaches the site whole, but its
	// body./form. values are missing. Default: 64 KiB.
	MaxBody int64 `json:"max_body,omitempty"`
	// MaxResponseBody is how many bytes of the site's answer are kept for
	// response.body. paths (only when an event maps one); the client gets
	// the whole answer regardless. Default: 64 KiB.
	MaxResponseBody int64 `json:"max_response_body,omitempty"`
	// Spool is the directory of the destination's on-disk queue.
	// Default: a folder in Caddy's data directory.
	Spool string `json:"spool,omitempty"`
	// FlushInterval is how long a partial batch waits before it is sent.
	// Default: 1s.
	FlushInterval caddy.Duration `json:"flush_interval,omitempty"`
	// BatchSize is the most events per request to Amazon, 1–500. Default: 500.
	BatchSize int `json:"batch_size,omitempty"`
	// DedupeWindow is how long an event ID is remembered: the same ID seen
	// again within it (a double-submitted checkout) is sent once. Default:
	// 10m; a negative value turns it off.
	DedupeWindow caddy.Duration `json:"dedupe_window,omitempty"`
	// SpoolMaxSize bounds the spooled events' size in bytes. When the spool
	// is full (Amazon down for long), new events are dropped, counted and
	// logged once, and the site is never stalled. Default: 1 GiB.
	SpoolMaxSize int64 `json:"spool_max_size,omitempty"`
	// SpoolSync is how often the spool is fsynced. An event is written to
	// the spool within 20ms of its request (more while a backlog is being
	// written), and from then on survives Caddy dying (a crash, kill -9); it
	// survives the machine losing power once fsynced, at most SpoolSync
	// later. Default: 200ms. A negative
	// value (Caddyfile: always) fsyncs every write before the event counts
	// as spooled: the most durable, and the most CPU at low rates (an
	// fsync every 20ms whatever the rate).
	SpoolSync caddy.Duration `json:"spool_sync,omitempty"`
	// NATS, when set, shares the destination's queue with the other Caddy
	// replicas on a NATS JetStream stream (fleet mode). Without it, the
	// local spool alone holds the queue.
	NATS *NATS `json:"nats,omitempty"`
	// DryRun builds, validates and logs each event (hashed) and sends nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// NoMetrics keeps this block from registering the module's metrics
	// with Caddy's registry (Caddyfile: metrics off). They are registered
	// while any loaded amazon_capi block wants them.
	NoMetrics bool `json:"no_metrics,omitempty"`
}

// settings is a Destination with placeholders resolved and defaults applied.
type settings struct {
	api                        amazon.Version
	name                       string // account_id@host[/v1][/dry_run], for logs and metrics
	region                     string
	endpoint, tokenURL         string
	accountID, clientID        string
	clientSecret, refreshToken string
	accessToken                string
	maxBody                    int64
	maxResponseBody            int64
	spool                      string
	flushInterval              time.Duration
	batchSize                  int
	dedupeWindow               time.Duration
	spoolMaxBytes              int64
	spoolSync                  time.Duration
	dryRun                     bool
	fleet                      *fleet.Config // nil: no fleet mode
}

// liveOptions are the forwarder options a reload changes in place (see
// forward.Forwarder.Configure).
func (s settings) liveOptions() forward.Config {
	cfg := forward.Config{
		BatchSize: s.batchSize, FlushInterval: s.flushInterval,
		SpoolMaxBytes: s.spoolMaxBytes, SpoolSync: s.spoolSync, DedupeWindow: s.dedupeWindow,
	}
	if s.fleet != nil {
		// The spool ships into NATS at once (flush_interval paces the
		// calls to Amazon, from the queue): an event is on this replica's
		// disk alone only until then.
		cfg.FlushInterval = shipInterval
	}
	return cfg
}

// shipInterval is how long a replica gathers events before it ships them
// into NATS, in fleet mode.
const shipInterval = 20 * time.Millisecond

// resolve expands {env.*} and {file.*} placeholders and checks the settings.
// Errors name the field, never its value.
func (d *Destination) resolve() (settings, error) {
	s, err := d.resolveSettings()
	if err != nil {
		return s, err
	}
	return s, s.check()
}

// resolveSettings is resolve without the check that the destination can
// send (account and credentials), for tools that need less.
func (d *Destination) resolveSettings() (settings, error) {
	repl := caddy.NewReplacer()
	get := func(v string) string { return strings.TrimSpace(repl.ReplaceKnown(v, "")) }
	s := settings{
		accountID: get(d.AccountID), clientID: get(d.ClientID), clientSecret: get(d.ClientSecret),
		refreshToken: get(d.RefreshToken), accessToken: get(d.AccessToken),
		endpoint: get(d.Endpoint), tokenURL: get(d.TokenURL), spool: get(d.Spool),
		maxBody: d.MaxBody, maxResponseBody: d.MaxResponseBody, flushInterval: time.Duration(d.FlushInterval), batchSize: d.BatchSize, dryRun: d.DryRun,
		dedupeWindow: time.Duration(d.DedupeWindow), spoolMaxBytes: d.SpoolMaxSize, spoolSync: time.Duration(d.SpoolSync),
	}
	fleetConfig, err := resolveNATS(d.NATS)
	if err != nil {
		return s, err
	}
	s.fleet = fleetConfig
	region := strings.ToLower(orDefault(d.Region, "na"))
	hosts, ok := amazon.Regions[region]
	if !ok {
		return s, fmt.Errorf("region %q is not one of na, eu, fe", d.Region)
	}
	s.region = region
	s.endpoint = orDefault(s.endpoint, hosts.Endpoint)
	s.tokenURL = orDefault(s.tokenURL, hosts.TokenURL)
	switch strings.ToLower(orDefault(d.API, "v2")) {
	case "v2":
		s.api = amazon.V2
	case "v1":
		s.api = amazon.V1
	default:
		return s, fmt.Errorf("api %q is not v2 or v1", d.API)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.maxResponseBody <= 0 {
		s.maxResponseBody = DefaultMaxBody
	}
	if s.batchSize <= 0 {
		s.batchSize = amazon.MaxBatch
	}
	s.name = labelOf(s.accountID, s.endpoint)
	if s.api == amazon.V1 {
		// account@host names a v2 destination; one on the legacy API beside
		// it (a migration) must not share its metric series.
		s.name += "/v1"
	}
	if s.dryRun {
		// Nor a dry run beside the live destination (a staging site): its
		// events are not the live one's.
		s.name += "/dry_run"
	}
	return s, nil
}

func (s *settings) check() error {
	if s.dryRun {
		return nil
	}
	if s.accountID == "" {
		return fmt.Errorf("account_id (or entity_id) is required; it is empty (if it is an {env.*} placeholder, is the variable set?)")
	}
	if s.clientID == "" {
		return fmt.Errorf("client_id is required: Amazon wants it in a header even with access_token")
	}
	if s.accessToken == "" && (s.clientSecret == "" || s.refreshToken == "") {
		return fmt.Errorf("set refresh_token and client_secret (recommended), or access_token; they are empty (unset {env.*} variable or missing {file.*}?)")
	}
	for name, raw := range map[string]string{"endpoint": s.endpoint, "token_url": s.tokenURL} {
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s is not an http(s) URL", name)
		}
	}
	return nil
}

// key identifies the destination across config reloads: the same account
// at the same endpoint, through the same API and spool, shares one
// forwarder and one spool. Credentials are not part of it: a reload
// that changes them updates the destination in place.
func (s *settings) key() string {
	h := sha256.New()
	parts := []string{string(s.api), s.endpoint, s.accountID, s.spool}
	if s.dryRun { // a dry run beside the live block of the same account is a destination of its own
		parts = append(parts, "dry_run")
	}
	for _, v := range parts {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return "amazon_capi:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// credentials are the settings that, when changed, need a new client.
func (s *settings) credentials() [6]string {
	return [6]string{s.clientID, s.clientSecret, s.refreshToken, s.accessToken, s.tokenURL, s.accountID}
}

// spoolName is the destination's files' name without extension: in the
// spool directory (by default Caddy's data directory), named after the
// account and the key.
func (s *settings) spoolName() string {
	dir := s.spool
	if dir == "" {
		dir = filepath.Join(caddy.AppDataDir(), "amazon_capi")
	}
	return filepath.Join(dir, safeName(s.accountID)+"-"+strings.TrimPrefix(s.key(), "amazon_capi:"))
}

// spoolDir is the directory of the destination's spool (its log).
func (s *settings) spoolDir() string { return s.spoolName() + ".spool" }

// deadLetterFile is the destination's dead letter, beside its spool.
func (s *settings) deadLetterFile() string { return s.spoolName() + ".dead.jsonl" }

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// label names the destination in logs without secrets.
func (s *settings) label() string { return s.name }

func labelOf(accountID, endpoint string) string {
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil {
		host = u.Host
	}
	return accountID + "@" + host
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

// outboundClient is the HTTP client for calls to Amazon: every call is
// bounded in time, and connections are reused.
func outboundClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 4
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Timeout: 60 * time.Second, Transport: t}
}
