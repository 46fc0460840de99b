package caddymodule

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

func init() {
	caddy.RegisterModule(Sandbox{})
	httpcaddyfile.RegisterHandlerDirective("amazon_capi_sandbox", parseSandboxCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("amazon_capi_sandbox", httpcaddyfile.Before, "respond")
}

// sandboxes keeps each sandbox's received events across config reloads.
var sandboxes = caddy.NewUsagePool()

// Sandbox is a local stand-in for Amazon's Conversions API: the v2 and v1
// events endpoints and the Login with Amazon token endpoint, validating
// requests as Amazon does and listing what arrived on a page (/) and as
// JSON (/sandbox/events). Use it to try a mapping before going live; the
// tests use it as their Amazon. It is never Amazon: nothing is forwarded.
type Sandbox struct {
	// AccountID, when set, is the only Amazon-Ads-AccountId accepted.
	AccountID string `json:"account_id,omitempty"`
	// ClientID, when set, is the only client ID accepted.
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret, when set, is the only client secret the token endpoint accepts.
	ClientSecret string `json:"client_secret,omitempty"`
	// RefreshToken, when set, is the only refresh token the token endpoint accepts.
	RefreshToken string `json:"refresh_token,omitempty"`
	// AccessTokens are static bearer tokens accepted besides issued ones.
	AccessTokens []string `json:"access_tokens,omitempty"`
	// Keep is how many received events the sandbox lists; default 1000.
	Keep int `json:"keep,omitempty"`
	// Delay makes the events endpoint answer this late (fault injection).
	Delay caddy.Duration `json:"delay,omitempty"`
	// FailStatus makes the events endpoint answer with this HTTP status…
	FailStatus int `json:"fail_status,omitempty"`
	// FailFirst …for the first this many calls only (0: every call).
	FailFirst int `json:"fail_first,omitempty"`
	// RetryAfter is sent with FailStatus, in seconds.
	RetryAfter int `json:"retry_after,omitempty"`

	server *sandbox.Server
	key    string
}

// CaddyModule returns the Caddy module information.
func (Sandbox) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.amazon_capi_sandbox",
		New: func() caddy.Module { return new(Sandbox) },
	}
}

type sandboxHolder struct{ server *sandbox.Server }

func (sandboxHolder) Destruct() error { return nil }

// Provision creates the sandbox, or takes over the one an earlier config
// with the same settings created, with its received events.
func (s *Sandbox) Provision(caddy.Context) error {
	repl := caddy.NewReplacer()
	cfg := sandbox.Config{
		AccountID: repl.ReplaceKnown(s.AccountID, ""), ClientID: repl.ReplaceKnown(s.ClientID, ""),
		ClientSecret: repl.ReplaceKnown(s.ClientSecret, ""), RefreshToken: repl.ReplaceKnown(s.RefreshToken, ""),
		Keep: s.Keep,
	}
	for _, t := range s.AccessTokens {
		cfg.AccessTokens = append(cfg.AccessTokens, repl.ReplaceKnown(t, ""))
	}
	faults := sandbox.Faults{Delay: time.Duration(s.Delay), Status: s.FailStatus, FailFirst: s.FailFirst, RetryAfter: s.RetryAfter}
	raw, _ := json.Marshal(s)
	s.key = "amazon_capi_sandbox:" + string(raw)
	val, _, err := sandboxes.LoadOrNew(s.key, func() (caddy.Destructor, error) {
		cfg.Faults = faults
		return sandboxHolder{sandbox.New(cfg)}, nil
	})
	if err != nil {
		return err
	}
	s.server = val.(sandboxHolder).server
	return nil
}

// Cleanup releases the sandbox.
func (s *Sandbox) Cleanup() error {
	if s.key != "" {
		_, _ = sandboxes.Delete(s.key)
	}
	return nil
}

// ServeHTTP answers as Amazon would; it never calls the next handler.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	s.server.ServeHTTP(w, r)
	return nil
}

func parseSandboxCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	s := new(Sandbox)
	err := s.UnmarshalCaddyfile(h.Dispenser)
	return s, err
}

// UnmarshalCaddyfile sets up the sandbox from Caddyfile tokens:
//
//	amazon_capi_sandbox [<matcher>] {
//		account_id    <id>
//		client_id     <id>
//		client_secret <secret>
//		refresh_token <token>
//		access_token  <token>      # may repeat
//		keep          <n>
//		delay         <duration>
//		fail_status   <status>
//		fail_first    <n>
//		retry_after   <seconds>
//	}
func (s *Sandbox) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		name := d.Val()
		var arg string
		if err := oneArg(d, &arg); err != nil {
			return err
		}
		if err := s.setOption(d, name, arg); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sandbox) setOption(d *caddyfile.Dispenser, name, arg string) error {
	switch name {
	case "account_id":
		s.AccountID = arg
	case "client_id":
		s.ClientID = arg
	case "client_secret":
		s.ClientSecret = arg
	case "refresh_token":
		s.RefreshToken = arg
	case "access_token":
		s.AccessTokens = append(s.AccessTokens, arg)
	case "delay":
		dur, err := caddy.ParseDuration(arg)
		if err != nil {
			return d.Errf("delay: %v", err)
		}
		s.Delay = caddy.Duration(dur)
	case "keep", "fail_status", "fail_first", "retry_after":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return d.Errf("%s: %q is not a whole number", name, arg)
		}
		*map[string]*int{"keep": &s.Keep, "fail_status": &s.FailStatus, "fail_first": &s.FailFirst, "retry_after": &s.RetryAfter}[name] = n
	default:
		return d.Errf("unknown amazon_capi_sandbox option %q", name)
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Sandbox)(nil)
	_ caddy.CleanerUpper          = (*Sandbox)(nil)
	_ caddyhttp.MiddlewareHandler = (*Sandbox)(nil)
	_ caddyfile.Unmarshaler       = (*Sandbox)(nil)
)
