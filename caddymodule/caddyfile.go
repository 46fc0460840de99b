package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(Handler)
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return m, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	amazon_capi [<matcher>] {
//		region         na|eu|fe
//		account_id     <id>            # alias: entity_id
//		client_id      <id>
//		client_secret  <secret>
//		refresh_token  <token>
//		access_token   <token>         # instead of the refresh trio
//		endpoint       <base URL>
//		token_url      <URL>
//		api            v2|v1
//		max_body       <size>
//		spool          <dir>
//		batch_size     <1–500>
//		flush_interval <duration>
//		dedupe_window  <duration>
//		spool_max_size <size>
//		dry_run
//		event <name> {
//			match { <request matchers> }
//			type <conversion type>
//			…                              # see mapping.Rule
//		}
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		if err := h.unmarshalOption(d); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) unmarshalOption(d *caddyfile.Dispenser) error {
	name := d.Val()
	strings := map[string]*string{
		"region": &h.Region, "account_id": &h.AccountID, "entity_id": &h.AccountID,
		"client_id": &h.ClientID, "client_secret": &h.ClientSecret, "refresh_token": &h.RefreshToken,
		"access_token": &h.AccessToken, "endpoint": &h.Endpoint, "token_url": &h.TokenURL,
		"api": &h.API, "spool": &h.Spool,
	}
	if target, ok := strings[name]; ok {
		return oneArg(d, target)
	}
	var arg string
	switch name {
	case "dry_run":
		if d.NextArg() {
			return d.ArgErr()
		}
		h.DryRun = true
		return nil
	case "event":
		return h.unmarshalEvent(d)
	case "max_body", "batch_size", "flush_interval", "dedupe_window", "spool_max_size":
		if err := oneArg(d, &arg); err != nil {
			return err
		}
	default:
		return d.Errf("unknown amazon_capi option %q", name)
	}
	switch name {
	case "max_body", "spool_max_size":
		size, err := humanize.ParseBytes(arg)
		if err != nil || size == 0 {
			return d.Errf("%s: %q is not a size such as 64KiB or 2GiB", name, arg)
		}
		*map[string]*int64{"max_body": &h.MaxBody, "spool_max_size": &h.SpoolMaxSize}[name] = int64(size)
	case "dedupe_window":
		dur, err := caddy.ParseDuration(arg)
		if err != nil {
			return d.Errf("dedupe_window: %q is not a duration such as 10m (0 or -1s turns it off)", arg)
		}
		if dur == 0 {
			dur = -1
		}
		h.DedupeWindow = caddy.Duration(dur)
	case "batch_size":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 500 {
			return d.Errf("batch_size: %q is not a number from 1 to 500", arg)
		}
		h.BatchSize = n
	case "flush_interval":
		dur, err := caddy.ParseDuration(arg)
		if err != nil || dur <= 0 {
			return d.Errf("flush_interval: %q is not a duration such as 1s", arg)
		}
		h.FlushInterval = caddy.Duration(dur)
	}
	return nil
}

func (h *Handler) unmarshalEvent(d *caddyfile.Dispenser) error {
	ev := &Event{}
	if !d.NextArg() {
		return d.Err("event needs a name: event <name> { … }")
	}
	ev.Name = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	line := d.Line()
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if err := ev.unmarshalField(d); err != nil {
			return err
		}
	}
	// Check the mapping now, so `caddy adapt` reports mistakes with the
	// Caddyfile's line and without loading the config.
	if _, err := mapping.Compile(ev.Name, ev.Rule); err != nil {
		return d.Errf("event %q (line %d): %v", ev.Name, line, err)
	}
	for _, other := range h.Events {
		if other.Name == ev.Name {
			return d.Errf("event %q is defined twice", ev.Name)
		}
	}
	h.Events = append(h.Events, ev)
	return nil
}

func (ev *Event) unmarshalField(d *caddyfile.Dispenser) error {
	r := &ev.Rule
	fields := map[string]*string{
		"event_name": &r.EventName, "type": &r.Type, "source": &r.Source, "timestamp": &r.Timestamp,
		"dedupe_id": &r.DedupeID, "value": &r.Value, "currency": &r.Currency, "units_sold": &r.UnitsSold,
		"country": &r.Country, "limited_data_use": &r.LimitedDataUse, "consent_tcf": &r.ConsentTCF,
		"consent_gpp": &r.ConsentGPP, "amazon_consent_user_data": &r.ConsentUserData,
		"amazon_consent_ad_storage": &r.ConsentAdStorage, "consent_ip": &r.ConsentIP, "user_agent": &r.UserAgent,
	}
	name := d.Val()
	if target, ok := fields[name]; ok {
		return oneArg(d, target)
	}
	switch name {
	case "match":
		set, err := caddyhttp.ParseCaddyfileNestedMatcherSet(d)
		if err != nil {
			return err
		}
		ev.MatcherSetsRaw = append(ev.MatcherSetsRaw, set)
	case "value_scale":
		var arg string
		if err := oneArg(d, &arg); err != nil {
			return err
		}
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || f <= 0 {
			return d.Errf("value_scale: %q is not a positive number such as 100", arg)
		}
		r.ValueScale = f
	case "ignore_gpc", "require_consent":
		if d.NextArg() {
			return d.ArgErr()
		}
		*map[string]*bool{"ignore_gpc": &r.IgnoreGPC, "require_consent": &r.RequireConsent}[name] = true
	case "when_response":
		m, err := parseResponseMatcher(d)
		if err != nil {
			return err
		}
		ev.WhenResponse = m
	case "event_id_header", "event_id_cookie":
		target := map[string]*string{"event_id_header": &ev.EventIDHeader, "event_id_cookie": &ev.EventIDCookie}[name]
		return oneArg(d, target)
	case "match_key":
		args := d.RemainingArgs()
		if len(args) != 2 {
			return d.Errf("match_key takes a type and a value: match_key EMAIL body.customer.email")
		}
		r.MatchKeys = append(r.MatchKeys, mapping.MatchKeyRule{Type: args[0], Value: args[1]})
	case "custom":
		args := d.RemainingArgs()
		if len(args) < 2 || len(args) > 3 {
			return d.Errf("custom takes a name, a value and optionally a data type: custom brand body.items.0.brand [STRING]")
		}
		c := mapping.CustomRule{Name: args[0], Value: args[1]}
		if len(args) == 3 {
			c.DataType = args[2]
		}
		r.Custom = append(r.Custom, c)
	default:
		return d.Errf("unknown field %q in event %q", name, ev.Name)
	}
	return nil
}

func oneArg(d *caddyfile.Dispenser, target *string) error {
	name := d.Val()
	args := d.RemainingArgs()
	if len(args) != 1 {
		return d.Errf("%s takes exactly one value", name)
	}
	*target = args[0]
	return nil
}

// Interface guards
var _ caddyfile.Unmarshaler = (*Handler)(nil)

// parseResponseMatcher reads `when_response { status 2xx … ; header <field> [<value>] }`
// (or the same on one line) with Caddy's own response matcher parser.
func parseResponseMatcher(d *caddyfile.Dispenser) (*caddyhttp.ResponseMatcher, error) {
	// Caddy's parser expects a matcher name first: give it this token.
	matchers := map[string]caddyhttp.ResponseMatcher{}
	if err := caddyhttp.ParseNamedResponseMatcher(d.NewFromNextSegment(), matchers); err != nil {
		return nil, err
	}
	m := matchers["when_response"]
	return &m, nil
}
