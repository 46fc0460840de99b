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
		Usage: "try --config <Caddyfile> --request <file> [--response <file>] [--remote-ip <ip>]",
		Short: "Tries the amazon_capi mappings of a config on a saved request",
		Long: `
Subcommand try reads a raw HTTP request from a file (and optionally the
site's raw HTTP response), runs every amazon_capi event of the config on it
and prints, as JSON, each event that matched: the event it would send
(hashed) and the verdict of the sandbox's validator, or why it gives none.
Nothing is sent and no network is used.`,
		CobraFunc: func(cmd *cobra.Command) {
			try := &cobra.Command{
				Use:   "try --config <Caddyfile> --request <file> [--response <file>]",
				Short: "Shows the events a config would send for a request",
				RunE: func(c *cobra.Command, _ []string) error {
					get := func(name string) string { v, _ := c.Flags().GetString(name); return v }
					return TryMapping(os.Stdout, TryInput{
						Config: get("config"), Adapter: get("adapter"), Request: get("request"),
						Response: get("response"), RemoteIP: get("remote-ip"),
					})
				},
			}
			try.Flags().StringP("config", "c", "Caddyfile", "the Caddyfile or JSON config")
			try.Flags().StringP("adapter", "a", "", "config adapter (default: caddyfile unless the file ends in .json)")
			try.Flags().StringP("request", "r", "", "a file with a raw HTTP/1.1 request")
			try.Flags().String("response", "", "a file with the site's raw HTTP/1.1 response, for when_response and response. paths")
			try.Flags().String("remote-ip", "203.0.113.10", "the client IP the request comes from")
			cmd.AddCommand(try)
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
}

// TryResult is one event's outcome in the mapping tester.
type TryResult struct {
	// Event is the event block's name.
	Event string `json:"event"`
	// Outcome is sent, invalid, or not_sent_response (when_response did not match).
	Outcome string `json:"outcome"`
	// Reason says why an event is not sent.
	Reason string `json:"reason,omitempty"`
	// API is the API version the body is for.
	API string `json:"api,omitempty"`
	// Body is the event as it would be sent (hashed match keys).
	Body json.RawMessage `json:"body,omitempty"`
	// Valid is the sandbox validator's verdict on Body.
	Valid *bool `json:"valid,omitempty"`
	// Errors are the validator's Amazon-style errors.
	Errors []sandbox.FieldError `json:"errors,omitempty"`
}

// TryMapping runs the config's events on a saved request and writes what
// they would send as JSON. It does no network I/O.
func TryMapping(out io.Writer, in TryInput) error {
	handlers, err := loadHandlers(in.Config, in.Adapter)
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
	for _, h := range handlers {
		r, err := h.try(ctx, req, body, resp, in.RemoteIP)
		if err != nil {
			return err
		}
		results = append(results, r...)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

func (h *Handler) try(ctx caddy.Context, req *http.Request, body []byte, resp *mapping.Response, remoteIP string) ([]TryResult, error) {
	api := amazon.V2
	if strings.EqualFold(h.API, "v1") {
		api = amazon.V1
	}
	var out []TryResult
	for _, ev := range h.Events {
		if err := ev.provision(ctx, mapping.Options{EU: strings.EqualFold(h.Region, "eu")}); err != nil {
			return nil, err
		}
		if !ev.matches(req) {
			continue
		}
		view := &mapping.Request{HTTP: req, Body: body, RemoteIP: remoteIP, Arrived: time.Now(), Response: resp}
		if limit := orDefaultSize(h.MaxBody, DefaultMaxBody); int64(len(body)) > limit {
			view.Body, view.BodyTooLarge = nil, true
		}
		res := TryResult{Event: ev.Name, API: string(api)}
		switch {
		case ev.needsResponse() && resp == nil:
			res.Outcome, res.Reason = "needs_response", "this event reads the site's answer: pass --response"
		case ev.WhenResponse != nil && !ev.WhenResponse.Match(resp.Status, resp.Header):
			res.Outcome, res.Reason = "not_sent_response", "the answer does not match when_response"
		default:
			res = tryEvent(ev, view, api, res)
		}
		out = append(out, res)
	}
	return out, nil
}

func tryEvent(ev *Event, view *mapping.Request, api amazon.Version, res TryResult) TryResult {
	e, err := ev.mapping.Evaluate(view)
	if err != nil {
		res.Outcome, res.Reason = "invalid", err.Error()
		return res
	}
	res.Outcome = "sent"
	res.Body, _ = json.Marshal(e)
	if api == amazon.V1 {
		res.Body, _ = json.Marshal(e.ToV1())
	}
	verdict := sandbox.Check(res.Body, string(api), time.Now())
	res.Valid, res.Errors = &verdict.Accepted, verdict.Errors
	return res
}

func orDefaultSize(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// loadHandlers adapts the config and returns every amazon_capi handler in it.
func loadHandlers(file, adapter string) ([]*Handler, error) {
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
	var handlers []*Handler
	var walk func(any) error
	walk = func(n any) error {
		switch v := n.(type) {
		case map[string]any:
			if v["handler"] == "amazon_capi" {
				b, _ := json.Marshal(v)
				h := new(Handler)
				if err := json.Unmarshal(b, h); err != nil {
					return err
				}
				handlers = append(handlers, h)
				return nil
			}
			for _, c := range v {
				if err := walk(c); err != nil {
					return err
				}
			}
		case []any:
			for _, c := range v {
				if err := walk(c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(tree); err != nil {
		return nil, err
	}
	if len(handlers) == 0 {
		return nil, errors.New("the config has no amazon_capi handler")
	}
	return handlers, nil
}

func readRequest(file, remoteIP string) (*http.Request, []byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	req, err := http.ReadRequest(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a raw HTTP/1.1 request: %w", file, err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, nil, err
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
