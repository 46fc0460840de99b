package caddymodule

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/spf13/cobra"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/mapping"
	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "amazon-capi",
		Usage: "try --config <Caddyfile> --request <file> [--response <file>] [--remote-ip <ip>] | accounts --config <Caddyfile> [--json]",
		Short: "Tries the amazon_capi mappings of a config on a saved request",
		Long: `
Subcommand try reads a raw HTTP request from a file (and optionally the
site's raw HTTP response), runs every amazon_capi event of the config on it
and prints, as JSON, each event that matched: the event it would send
(hashed, with the click_token cookie's click tokens, as the live server
sends it) and the verdict of the sandbox's validator, or every field that
keeps it from being sent. When no event matched, it prints [] and says why
(no site serves the request's Host, or no event's matchers match it) and
exits with status 1. Nothing is sent and no network is used.

Subcommand accounts asks Amazon, with the LWA credentials of each
amazon_capi destination of the config, which advertiser accounts they may
use, and prints each with its DSP advertiser ID: the ID Amazon's own
Events API sample sends as account_id.`,
		CobraFunc: func(cmd *cobra.Command) {
			try := &cobra.Command{
				Use:   "try --config <Caddyfile> --request <file> [--response <file>]",
				Short: "Shows the events a config would send for a request",
				RunE: func(c *cobra.Command, _ []string) error {
					get := func(name string) string { v, _ := c.Flags().GetString(name); return v }
					show, _ := c.Flags().GetBool("show-normalized")
					return TryMapping(os.Stdout, TryInput{
						Config: get("config"), Adapter: get("adapter"), Request: get("request"),
						Response: get("response"), RemoteIP: get("remote-ip"), ShowNormalized: show,
					})
				},
			}
			try.Flags().StringP("config", "c", "Caddyfile", "the Caddyfile or JSON config")
			try.Flags().StringP("adapter", "a", "", "config adapter (default: caddyfile unless the file ends in .json)")
			try.Flags().StringP("request", "r", "", "a file with a raw HTTP/1.1 request")
			try.Flags().String("response", "", "a file with the site's raw HTTP/1.1 response, for when_response and response. paths")
			try.Flags().String("remote-ip", "203.0.113.10", "the client IP the request comes from")
			try.Flags().Bool("show-normalized", false, "also print each match key's normalized value beside its hash (PII: on your own terminal only)")
			cmd.AddCommand(try)
			cmd.AddCommand(accountsCommand())
		},
	})
}

// TryInput names the files the mapping tester reads.
type TryInput struct {
	// Config is the config file; Adapter its adapter (caddyfile by default).
	Config, Adapter string
	// Request is a raw HTTP/1.1 request; Response optionally the site's answer.
	Request, Response string
	// RemoteIP is the client IP the request comes from.
	RemoteIP string
	// ShowNormalized adds each hashed match key's normalized value to the
	// output: the customer's PII, for the operator's terminal only.
	ShowNormalized bool
}

// TryResult is one event's outcome in the mapping tester.
type TryResult struct {
	// Site is the site addresses of the block the event is in ("" when the
	// block serves every host).
	Site string `json:"site,omitempty"`
	// Destination is the destination the event would go to (account@host).
	Destination string `json:"destination"`
	// Event is the event block's name.
	Event string `json:"event"`
	// Outcome is sent, invalid, not_sent_response (when_response did not
	// match) or needs_response.
	Outcome string `json:"outcome"`
	// Reason says why an event is not sent; for an invalid event, the
	// first field that failed (InvalidFields lists them all).
	Reason string `json:"reason,omitempty"`
	// InvalidFields are all the fields that made the event invalid, in
	// the order the mapping reads them.
	InvalidFields []TryInvalidField `json:"invalid_fields,omitempty"`
	// API is the API version the body is for.
	API string `json:"api,omitempty"`
	// Body is the event as it would be sent (hashed match keys), in
	// Amazon's own wire format.
	Body json.RawMessage `json:"body,omitempty"`
	// Valid is the sandbox validator's verdict on Body.
	Valid *bool `json:"valid,omitempty"`
	// Errors are the validator's Amazon-style errors, every one of them.
	Errors []TryValidatorError `json:"errors,omitempty"`
	// DroppedKeys are the match keys left out of the event, with why.
	DroppedKeys []TryDropped `json:"dropped_match_keys,omitempty"`
	// DroppedCustom are the custom attributes left out, with why.
	DroppedCustom []TryDropped `json:"dropped_custom_data,omitempty"`
	// Normalized is each hashed match key's normalized value and hash,
	// with --show-normalized only.
	Normalized []mapping.NormalizedKey `json:"normalized_match_keys,omitempty"`
}

// TryInvalidField is one field that made an event invalid. It never
// quotes the request's value.
type TryInvalidField struct {
	// Field is the config field: country, value, match_key, …
	Field string `json:"field"`
	// Reason says what was wrong with it.
	Reason string `json:"reason"`
}

// TryValidatorError is one of the sandbox validator's errors, as Amazon
// would give it (sandbox.FieldError) with try's snake_case keys.
type TryValidatorError struct {
	// Code is a code from Amazon's ErrorCode enum.
	Code string `json:"code"`
	// FieldLocation is the field's JSON path in the body.
	FieldLocation string `json:"field_location,omitempty"`
	// Message explains it.
	Message string `json:"message"`
}

// TryDropped is a match key or custom attribute left out of an event
// (mapping.Dropped with try's snake_case keys).
type TryDropped struct {
	// Field is the config field: match_key[1] PHONE, custom brand.
	Field string `json:"field"`
	// Type is the match key type or the custom attribute's name.
	Type string `json:"type"`
	// Reason is a short label: missing, invalid_email, …
	Reason string `json:"reason"`
	// Detail says the same in words, never quoting the value.
	Detail string `json:"detail,omitempty"`
}

// NoEventError says why try has no event to show: no site of the config
// with an amazon_capi block serves the request's Host, or the request
// matches none of the events of the sites that do. TryMapping returns it
// after printing the empty result.
type NoEventError struct {
	// Request is the request's method and path (not its query, which may
	// carry a customer's data).
	Request string
	// Host is the request's Host.
	Host string
	// Sites are the sites with an amazon_capi block, when none serves Host.
	Sites []string
	// Events are the events that did not match, each with its site, when
	// a site serves Host.
	Events []string
}

// Error says why no event would be sent, and what to change.
func (e *NoEventError) Error() string {
	if len(e.Events) == 0 {
		return fmt.Sprintf("no event would be sent: no site with amazon_capi serves Host %q; the sites are: %s (set the request's Host header to one of them)",
			e.Host, strings.Join(e.Sites, "; "))
	}
	return fmt.Sprintf("no event would be sent: %s matches none of the events of the sites serving Host %q: %s",
		e.Request, e.Host, strings.Join(e.Events, ", "))
}

// TryMapping runs the config's events on a saved request and writes what
// they would send as JSON. When no event ran, it writes [] and returns a
// *NoEventError that says why. It does no network I/O.
func TryMapping(out io.Writer, in TryInput) error {
	if in.Request == "" {
		return errors.New("--request is required: a file with a raw HTTP/1.1 request, such as demo/checkout.http")
	}
	blocks, err := loadHandlers(in.Config, in.Adapter)
	if err != nil {
		return err
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	req, body, err := readRequest(in.Request, in.RemoteIP)
	if err != nil {
		return err
	}
	var resp *mapping.Response
	if in.Response != "" {
		if resp, err = readResponse(in.Response, req); err != nil {
			return err
		}
	}
	results := []TryResult{}
	none := &NoEventError{Request: req.Method + " " + req.URL.Path, Host: req.Host}
	for _, b := range blocks {
		none.Sites = appendNew(none.Sites, b.site())
		if !b.servesHost(ctx, req) {
			continue
		}
		r, unmatched, err := b.try(ctx, req, body, resp, in)
		if err != nil {
			return err
		}
		results = append(results, r...)
		for _, name := range unmatched {
			none.Events = append(none.Events, name+" (site "+b.site()+")")
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return err
	}
	if len(results) == 0 {
		return none
	}
	return nil
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// tryBlock is an amazon_capi handler of the config with the hosts of the
// site it is in (none: every host).
type tryBlock struct {
	*Handler
	hosts []string
}

// site names the block's site by its hosts.
func (b tryBlock) site() string {
	if len(b.hosts) == 0 {
		return "every host"
	}
	return strings.Join(b.hosts, ", ")
}

// servesHost reports whether the block's site answers the request's Host.
func (b tryBlock) servesHost(ctx caddy.Context, req *http.Request) bool {
	if len(b.hosts) == 0 {
		return true
	}
	m := caddyhttp.MatchHost(b.hosts)
	if err := m.Provision(ctx); err != nil {
		return false
	}
	ok, err := m.MatchWithError(req)
	return ok && err == nil
}

// try runs the block's events on the request; unmatched names the events
// whose matchers do not match it.
func (b tryBlock) try(ctx caddy.Context, req *http.Request, body []byte, resp *mapping.Response, in TryInput) (out []TryResult, unmatched []string, err error) {
	s, err := b.Destination.resolveSettings()
	if err != nil {
		return nil, nil, err
	}
	opts, err := b.eventOptions(s)
	if err != nil {
		return nil, nil, err
	}
	for _, ev := range b.Events {
		if err := ev.provision(ctx, opts); err != nil {
			return nil, nil, err
		}
		if !ev.matches(req) {
			unmatched = append(unmatched, ev.Name)
			continue
		}
		view := &mapping.Request{HTTP: req, Body: body, RemoteIP: in.RemoteIP, Arrived: time.Now(), Response: resp}
		if int64(len(body)) > s.maxBody {
			view.Body, view.BodyTooLarge = nil, true
		}
		res := TryResult{Site: strings.Join(b.hosts, ", "), Destination: s.label(), Event: ev.Name, API: string(s.api)}
		switch {
		case ev.needsResponse() && resp == nil:
			res.Outcome, res.Reason = "needs_response", "this event reads the site's answer: pass --response"
		case ev.WhenResponse != nil && !ev.WhenResponse.Match(resp.Status, resp.Header):
			res.Outcome, res.Reason = "not_sent_response", "the answer does not match when_response"
		default:
			res = tryEvent(ev, view, s.api, in.ShowNormalized, res)
		}
		out = append(out, res)
	}
	return out, unmatched, nil
}

// eventOptions are the mapping options the block's events compile with, as
// the live handler's Provision gives them: the region's consent rule and
// the click_token cookie (ClickToken.provision settles its name and
// lifetime), so that a request carrying the cookie sends its click tokens
// as arefMeasurementTokens here too.
func (h *Handler) eventOptions(s settings) (mapping.Options, error) {
	opts := mapping.Options{EU: s.region == "eu"}
	if c := h.ClickToken; c != nil {
		if err := c.provision(); err != nil {
			return opts, fmt.Errorf("amazon_capi: %w", err)
		}
		opts.ClickTokenCookie, opts.ClickTokenMaxAge = c.Cookie, time.Duration(c.MaxAge)
	}
	return opts, nil
}

func tryEvent(ev *Event, view *mapping.Request, api amazon.Version, showNormalized bool, res TryResult) TryResult {
	notes := mapping.Notes{ShowNormalized: showNormalized, ListInvalid: true}
	e, err := ev.mapping.EvaluateNoting(view, &notes)
	res.DroppedKeys, res.DroppedCustom, res.Normalized = tryDropped(notes.DroppedKeys), tryDropped(notes.DroppedCustom), notes.Normalized
	if err != nil {
		res.Outcome, res.Reason = "invalid", err.Error()
		for _, inv := range notes.Invalid {
			f := TryInvalidField{Field: inv.Field, Reason: inv.Reason}
			if !slices.Contains(res.InvalidFields, f) {
				res.InvalidFields = append(res.InvalidFields, f)
			}
		}
		return res
	}
	res.Outcome = "sent"
	var verdict sandbox.Received
	res.Body, verdict = encodeAndCheck(e, api)
	res.Valid = &verdict.Accepted
	for _, fe := range verdict.Errors {
		res.Errors = append(res.Errors, TryValidatorError{Code: fe.Code, FieldLocation: fe.FieldLocation, Message: fe.Message})
	}
	return res
}

func tryDropped(list []mapping.Dropped) []TryDropped {
	var out []TryDropped
	for _, d := range list {
		out = append(out, TryDropped{Field: d.Field, Type: d.Type, Reason: d.Reason, Detail: d.Detail})
	}
	return out
}

// loadHandlers adapts the config and returns every amazon_capi handler in
// it, with the hosts of its site.
func loadHandlers(file, adapter string) ([]tryBlock, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if adapter == "" && filepath.Ext(file) != ".json" {
		adapter = "caddyfile"
	}
	if adapter != "" {
		a := caddyconfig.GetAdapter(adapter)
		if a == nil {
			return nil, fmt.Errorf("unknown config adapter %q", adapter)
		}
		if raw, _, err = a.Adapt(raw, map[string]any{"filename": file}); err != nil {
			return nil, err
		}
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, err
	}
	var blocks []tryBlock
	if err := findHandlers(tree, nil, &blocks); err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, errors.New("the config has no amazon_capi handler")
	}
	return blocks, nil
}

// findHandlers walks a JSON config for amazon_capi handlers; a route's
// host matcher applies to what the route holds.
func findHandlers(n any, hosts []string, out *[]tryBlock) error {
	switch v := n.(type) {
	case map[string]any:
		if v["handler"] == "amazon_capi" {
			b, _ := json.Marshal(v)
			h := new(Handler)
			if err := json.Unmarshal(b, h); err != nil {
				return err
			}
			*out = append(*out, tryBlock{Handler: h, hosts: hosts})
			return nil
		}
		if routeHosts := hostsOf(v["match"]); routeHosts != nil {
			hosts = routeHosts
		}
		for _, c := range v {
			if err := findHandlers(c, hosts, out); err != nil {
				return err
			}
		}
	case []any:
		for _, c := range v {
			if err := findHandlers(c, hosts, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// hostsOf reads the host matchers of a route's match sets.
func hostsOf(match any) []string {
	sets, _ := match.([]any)
	var hosts []string
	for _, set := range sets {
		m, _ := set.(map[string]any)
		list, _ := m["host"].([]any)
		for _, h := range list {
			if s, ok := h.(string); ok {
				hosts = append(hosts, s)
			}
		}
	}
	return hosts
}

func readRequest(file, remoteIP string) (*http.Request, []byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a raw HTTP/1.1 request: %w", file, err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, nil, err
	}
	if req.ContentLength <= 0 && len(req.TransferEncoding) == 0 {
		// A hand-written request often has no Content-Length: its body is
		// the rest of the file (less the editor's final newline).
		rest, err := io.ReadAll(br)
		if err != nil {
			return nil, nil, err
		}
		body = bytes.TrimRight(rest, "\r\n")
		req.ContentLength = int64(len(body))
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.RemoteAddr = remoteIP + ":50000"
	repl := caddy.NewReplacer()
	req = caddyhttp.PrepareRequest(req, repl, nil, nil)
	caddyhttp.SetVar(req.Context(), caddyhttp.ClientIPVarKey, remoteIP)
	return req, body, nil
}

func readResponse(file string, req *http.Request) (*mapping.Response, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	resp, err := http.ReadResponse(bufio.NewReader(f), req)
	if err != nil {
		return nil, fmt.Errorf("%s is not a raw HTTP/1.1 response: %w", file, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &mapping.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}
