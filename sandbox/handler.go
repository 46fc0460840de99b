package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/internal/caddyopts"
)

// Register registers the sandbox with Caddy: the HTTP handler
// http.handlers.amazon_capi_sandbox and its Caddyfile directive
// amazon_capi_sandbox. Importing package caddysandbox does it; a
// production build of the module does not (the sandbox is not Amazon).
func Register() {
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
	// Keep is how many received events the sandbox lists; default 1000
	// (and at most 32 MiB of them).
	Keep int `json:"keep,omitempty"`
	// Hosts are the host names, besides localhost and IP addresses, at
	// which the sandbox serves its page and /sandbox/ endpoints (a request
	// naming another host is refused, against DNS rebinding).
	Hosts []string `json:"hosts,omitempty"`
	// Delay makes the events endpoint answer this late (fault injection).
	Delay caddy.Duration `json:"delay,omitempty"`
	// FailStatus makes the events endpoint answer with this HTTP status…
	FailStatus int `json:"fail_status,omitempty"`
	// FailFirst …for the first this many calls only (0: every call).
	FailFirst int `json:"fail_first,omitempty"`
	// RetryAfter is sent with FailStatus, in seconds.
	RetryAfter int `json:"retry_after,omitempty"`

	server *Server
	key    string
}

// CaddyModule returns the Caddy module information.
func (Sandbox) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.amazon_capi_sandbox",
		New: func() caddy.Module { return new(Sandbox) },
	}
}

type sandboxHolder struct{ server *Server }

func (sandboxHolder) Destruct() error { return nil }

// Provision creates the sandbox, or takes over the one an earlier config
// with the same settings created, with its received events.
func (s *Sandbox) Provision(caddy.Context) error {
	if err := s.Validate(); err != nil { // before anything is created
		return err
	}
	repl := caddy.NewReplacer()
	cfg := Config{
		AccountID: repl.ReplaceKnown(s.AccountID, ""), ClientID: repl.ReplaceKnown(s.ClientID, ""),
		ClientSecret: repl.ReplaceKnown(s.ClientSecret, ""), RefreshToken: repl.ReplaceKnown(s.RefreshToken, ""),
		Keep: s.Keep, Hosts: s.Hosts,
	}
	for _, t := range s.AccessTokens {
		cfg.AccessTokens = append(cfg.AccessTokens, repl.ReplaceKnown(t, ""))
	}
	faults := s.faults()
	raw, _ := json.Marshal(s)
	s.key = "amazon_capi_sandbox:" + string(raw)
	val, _, err := sandboxes.LoadOrNew(s.key, func() (caddy.Destructor, error) {
		cfg.Faults = faults
		return sandboxHolder{New(cfg)}, nil
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
//		host          <name>...    # also serve the page at these names
//		delay         <duration>
//		fail_status   <status>
//		fail_first    <n>
//		retry_after   <seconds>
//	}
func (s *Sandbox) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := map[string]int{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		if line, twice := seen[option]; twice && option != "access_token" && option != "host" {
			return d.Errf("%s is given twice (first on line %d); keep one", option, line)
		}
		seen[option] = d.Line()
		var err error
		switch option {
		case "account_id":
			err = caddyopts.One(d, &s.AccountID)
		case "client_id":
			err = caddyopts.One(d, &s.ClientID)
		case "client_secret":
			err = caddyopts.One(d, &s.ClientSecret)
		case "refresh_token":
			err = caddyopts.One(d, &s.RefreshToken)
		case "access_token":
			var token string
			err = caddyopts.One(d, &token)
			s.AccessTokens = append(s.AccessTokens, token)
		case "delay":
			err = caddyopts.Duration(d, &s.Delay)
		case "keep":
			err = caddyopts.Count(d, &s.Keep)
		case "host":
			if !d.NextArg() {
				return d.ArgErr()
			}
			s.Hosts = append(s.Hosts, d.Val())
			s.Hosts = append(s.Hosts, d.RemainingArgs()...)
		case "fail_status":
			err = caddyopts.Count(d, &s.FailStatus)
		case "fail_first":
			err = caddyopts.Count(d, &s.FailFirst)
		case "retry_after":
			err = caddyopts.Count(d, &s.RetryAfter)
		default:
			err = d.Errf("unknown amazon_capi_sandbox option %q%s", option, caddyopts.Suggest(option, sandboxOptions))
		}
		if err != nil {
			return err
		}
	}
	if err := s.faults().Check(); err != nil {
		return d.Errf("amazon_capi_sandbox: %v", err)
	}
	return nil
}

// sandboxOptions are the options of an amazon_capi_sandbox block.
var sandboxOptions = amazon.NewEnum("amazon_capi_sandbox option", "account_id", "client_id", "client_secret",
	"refresh_token", "access_token", "delay", "keep", "host", "fail_status", "fail_first", "retry_after")

// faults are the sandbox's configured faults.
func (s *Sandbox) faults() Faults {
	return Faults{Delay: time.Duration(s.Delay), Status: s.FailStatus, FailFirst: s.FailFirst, RetryAfter: s.RetryAfter}
}

// Validate checks the faults by the rule POST /sandbox/faults applies.
func (s *Sandbox) Validate() error {
	if s.Keep < 0 {
		return fmt.Errorf("amazon_capi_sandbox: keep must not be negative")
	}
	if err := s.faults().Check(); err != nil {
		return fmt.Errorf("amazon_capi_sandbox: %w", err)
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Sandbox)(nil)
	_ caddy.Validator             = (*Sandbox)(nil)
	_ caddy.CleanerUpper          = (*Sandbox)(nil)
	_ caddyhttp.MiddlewareHandler = (*Sandbox)(nil)
	_ caddyfile.Unmarshaler       = (*Sandbox)(nil)
)

// Running returns the sandboxes the loaded configs run whose account_id is
// account (all of them when it is ""), for tests and tools that embed
// Caddy.
func Running(account string) []*Server {
	var out []*Server
	sandboxes.Range(func(key, value any) bool {
		if account == "" || strings.Contains(key.(string), `"account_id":"`+account+`"`) {
			out = append(out, value.(sandboxHolder).server)
		}
		return true
	})
	return out
}
