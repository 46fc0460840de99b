package caddymodule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/internal/caddyopts"
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
//		region            na|eu|fe
//		account_id        <id>            # alias: entity_id
//		client_id         <id>
//		client_secret     <secret>
//		refresh_token     <token>
//		access_token      <token>         # instead of the refresh trio
//		endpoint          <base URL>
//		token_url         <URL>
//		api               v2|v1
//		max_body          <size>
//		max_response_body <size>
//		spool             <dir>
//		batch_size        <1–500>
//		flush_interval    <duration>
//		dedupe_window     <duration>
//		spool_max_size    <size>
//		spool_sync        <duration>|always
//		dry_run
//		metrics           on|off
//		click_token       [<cookie>] { max_age <d>; ad_storage <value>; ignore_gpc }
//		nats              <url> [<url>…] { stream, replicas, max_bytes, credentials, nkey, user, token, tls_ca, tls_cert }
//		event <name> {
//			match { <request matchers> }
//			type <conversion type>
//			…                              # see mapping.Rule
//		}
//	}
//
// Each option may be given once (event, and an event's match, match_key
// and custom lines, may repeat). A value that can be checked without the
// environment is checked here, so `caddy adapt` reports it with its line.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		return d.ArgErr()
	}
	seen := once{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		if err := seen.check(d, option, "event"); err != nil {
			return err
		}
		var err error
		switch option {
		case "region":
			err = parseWord(d, &h.Region, "na", "eu", "fe")
		case "account_id", "entity_id":
			err = caddyopts.One(d, &h.AccountID)
		case "client_id":
			err = caddyopts.One(d, &h.ClientID)
		case "client_secret":
			err = caddyopts.One(d, &h.ClientSecret)
		case "refresh_token":
			err = caddyopts.One(d, &h.RefreshToken)
		case "access_token":
			err = caddyopts.One(d, &h.AccessToken)
		case "endpoint":
			err = caddyopts.One(d, &h.Endpoint)
		case "token_url":
			err = caddyopts.One(d, &h.TokenURL)
		case "api":
			err = parseWord(d, &h.API, "v2", "v1")
		case "spool":
			err = caddyopts.One(d, &h.Spool)
		case "max_body":
			err = parseSize(d, &h.MaxBody)
		case "max_response_body":
			err = parseSize(d, &h.MaxResponseBody)
		case "spool_max_size":
			err = parseSize(d, &h.SpoolMaxSize)
		case "spool_sync":
			err = parseSwitchableDuration(d, &h.SpoolSync, "spool_sync", "always", "200ms, or always")
		case "batch_size":
			err = parseBatchSize(d, &h.BatchSize)
		case "flush_interval":
			err = caddyopts.Duration(d, &h.FlushInterval)
		case "dedupe_window":
			err = parseSwitchableDuration(d, &h.DedupeWindow, "dedupe_window", "", "10m (0 turns it off)")
		case "dry_run":
			err = parseFlag(d, &h.DryRun)
		case "metrics":
			var onOff string
			err = parseWord(d, &onOff, "on", "off")
			h.NoMetrics = onOff == "off"
		case "click_token":
			h.ClickToken, err = unmarshalClickToken(d)
		case "nats":
			h.NATS, err = unmarshalNATS(d)
		case "event":
			err = h.unmarshalEvent(d)
		default:
			err = d.Errf("unknown amazon_capi option %q%s", option, caddyopts.Suggest(option, handlerOptions))
		}
		if err != nil {
			return err
		}
	}
	return h.checkComplete(d)
}

// handlerOptions are the options of an amazon_capi block, for suggestions.
var handlerOptions = amazon.NewEnum("amazon_capi option", "region", "account_id", "entity_id", "client_id",
	"client_secret", "refresh_token", "access_token", "endpoint", "token_url", "api", "spool", "max_body",
	"max_response_body", "spool_max_size", "spool_sync", "batch_size", "flush_interval", "dedupe_window", "dry_run", "metrics", "click_token", "nats", "event")

// checkComplete fails a block that can never send: no account, or no
// credentials (dry_run needs neither). Placeholders are resolved later,
// when the config loads; an empty one is reported then.
func (h *Handler) checkComplete(d *caddyfile.Dispenser) error {
	if h.DryRun {
		return nil
	}
	switch {
	case h.AccountID == "":
		return d.Err("amazon_capi needs account_id: the advertiser ID Amazon-Ads-AccountId takes (Amazon's sample uses the numeric dspAdvertiserId), or dry_run to send nothing")
	case h.ClientID == "":
		return d.Err("amazon_capi needs client_id: your Login with Amazon client ID (Amazon wants it in a header even with access_token)")
	case h.AccessToken == "" && (h.ClientSecret == "" || h.RefreshToken == ""):
		return d.Err("amazon_capi needs credentials: client_secret and refresh_token (recommended), or access_token")
	}
	return nil
}

// once reports an option given twice in one block.
type once map[string]int

// check records option's line; a second one is an error unless the option
// is one that repeats.
func (o once) check(d *caddyfile.Dispenser, option string, repeatable ...string) error {
	for _, r := range repeatable {
		if option == r {
			return nil
		}
	}
	key := option
	if key == "entity_id" {
		key = "account_id"
	}
	if line, ok := o[key]; ok {
		return d.Errf("%s is given twice (first on line %d); keep one", option, line)
	}
	o[key] = d.Line()
	return nil
}

// parseWord reads one argument that must be one of words (any case).
func parseWord(d *caddyfile.Dispenser, target *string, words ...string) error {
	name := d.Val()
	if err := caddyopts.One(d, target); err != nil {
		return err
	}
	if strings.Contains(*target, "{") { // a placeholder: checked when the config loads
		return nil
	}
	for _, w := range words {
		if strings.EqualFold(*target, w) {
			*target = w
			return nil
		}
	}
	return d.Errf("%s: %q is not one of %s", name, *target, strings.Join(words, ", "))
}

func parseFlag(d *caddyfile.Dispenser, target *bool) error {
	name := d.Val()
	if d.NextArg() {
		return d.Errf("%s takes no value", name)
	}
	*target = true
	return nil
}

func parseSize(d *caddyfile.Dispenser, target *int64) error {
	name := d.Val()
	var arg string
	if err := caddyopts.One(d, &arg); err != nil {
		return err
	}
	size, err := humanize.ParseBytes(arg)
	if err != nil || size == 0 || size > 1<<62 {
		return d.Errf("%s: %q is not a size such as 64KiB or 2GiB", name, arg)
	}
	*target = int64(size)
	return nil
}

func parseBatchSize(d *caddyfile.Dispenser, target *int) error {
	var arg string
	if err := caddyopts.One(d, &arg); err != nil {
		return err
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > amazon.MaxBatch {
		return d.Errf("batch_size: %q is not a number from 1 to %d", arg, amazon.MaxBatch)
	}
	*target = n
	return nil
}

// parseSwitchableDuration reads a duration whose 0 (or word, when given)
// means off or always, which is stored as -1, as 0 in JSON means the
// default. A negative duration is taken as such, unless there is a word.
func parseSwitchableDuration(d *caddyfile.Dispenser, target *caddy.Duration, option, word, example string) error {
	var arg string
	if err := caddyopts.One(d, &arg); err != nil {
		return err
	}
	if word != "" && arg == word {
		*target = -1
		return nil
	}
	dur, err := caddy.ParseDuration(arg)
	if err != nil || (word != "" && dur < 0) {
		return d.Errf("%s: %q is not a duration such as %s", option, arg, example)
	}
	if dur == 0 {
		dur = -1
	}
	*target = caddy.Duration(dur)
	return nil
}

// unmarshalEvent reads one event block. Its mapping is compiled here too,
// so that `caddy adapt` reports a mistake at the line of the field.
func (h *Handler) unmarshalEvent(d *caddyfile.Dispenser) error {
	ev := &Event{}
	if !d.NextArg() {
		return d.Err("event needs a name: event <name> { … }")
	}
	ev.Name = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for _, other := range h.Events {
		if other.Name == ev.Name {
			return d.Errf("event %q is defined twice", ev.Name)
		}
	}
	eventLine := d.Line()
	lines := map[string]int{}
	seen := once{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		field := d.Val()
		if err := seen.check(d, field, "match", "match_key", "custom"); err != nil {
			return err
		}
		line := d.Line()
		if err := ev.unmarshalField(d, field); err != nil {
			return err
		}
		lines[fieldRef(ev, field)] = line
	}
	if _, err := mapping.Compile(ev.Name, ev.Rule); err != nil {
		return atLines(d, err, lines, eventLine)
	}
	h.Events = append(h.Events, ev)
	return nil
}

// fieldRef names a field line just read as mapping.FieldError does:
// match_key[i] and custom <name> for the repeatable ones.
func fieldRef(ev *Event, field string) string {
	switch field {
	case "match_key":
		return fmt.Sprintf("match_key[%d]", len(ev.MatchKeys)-1)
	case "custom":
		return "custom " + ev.Custom[len(ev.Custom)-1].Name
	}
	return field
}

// atLines reports each of the mapping's errors at the line of its field
// (the event's line when the field is missing).
func atLines(d *caddyfile.Dispenser, err error, lines map[string]int, eventLine int) error {
	var list []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]error, len(list))
	for i, e := range list {
		line := eventLine
		var fe *mapping.FieldError
		if errors.As(e, &fe) {
			if l, ok := lines[lineKey(fe.Field)]; ok {
				line = l
			}
		}
		out[i] = fmt.Errorf("%w, at %s:%d", e, d.File(), line)
	}
	return errors.Join(out...)
}

// lineKey is the fieldRef of a mapping.FieldError's field: match_key[0]
// EMAIL is match_key[0]; custom <name> is itself.
func lineKey(field string) string {
	if strings.HasPrefix(field, "custom ") {
		return field
	}
	key, _, _ := strings.Cut(field, " ")
	return key
}

func (ev *Event) unmarshalField(d *caddyfile.Dispenser, field string) error {
	r := &ev.Rule
	switch field {
	case "match":
		return ev.parseMatch(d)
	case "when_response":
		return ev.parseWhenResponse(d)
	case "event_name":
		return caddyopts.One(d, &r.EventName)
	case "type":
		return caddyopts.One(d, &r.Type)
	case "source":
		return caddyopts.One(d, &r.Source)
	case "timestamp":
		return caddyopts.One(d, &r.Timestamp)
	case "dedupe_id":
		return caddyopts.One(d, &r.DedupeID)
	case "value":
		return caddyopts.One(d, &r.Value)
	case "value_scale":
		return parseValueScale(d, &r.ValueScale)
	case "currency":
		return caddyopts.One(d, &r.Currency)
	case "units_sold":
		return caddyopts.One(d, &r.UnitsSold)
	case "country":
		return caddyopts.One(d, &r.Country)
	case "match_key":
		return parseMatchKey(d, &r.MatchKeys)
	case "custom":
		return parseCustom(d, &r.Custom)
	case "limited_data_use":
		return caddyopts.One(d, &r.LimitedDataUse)
	case "ignore_gpc":
		return parseFlag(d, &r.IgnoreGPC)
	case "consent_tcf":
		return caddyopts.One(d, &r.ConsentTCF)
	case "consent_gpp":
		return caddyopts.One(d, &r.ConsentGPP)
	case "amazon_consent_user_data":
		return caddyopts.One(d, &r.ConsentUserData)
	case "amazon_consent_ad_storage":
		return caddyopts.One(d, &r.ConsentAdStorage)
	case "consent_ip":
		return caddyopts.One(d, &r.ConsentIP)
	case "require_consent":
		return parseFlag(d, &r.RequireConsent)
	case "user_agent":
		return caddyopts.One(d, &r.UserAgent)
	case "data_set_name":
		return caddyopts.One(d, &r.DataSetName)
	case "amazon_ad_event_key":
		return caddyopts.One(d, &r.AmazonAdEventKey)
	case "partner":
		return caddyopts.One(d, &r.Partner)
	case "aref_measurement_tokens":
		return caddyopts.One(d, &r.ArefMeasurementTokens)
	case "event_id_header":
		return caddyopts.One(d, &ev.EventIDHeader)
	case "event_id_cookie":
		return caddyopts.One(d, &ev.EventIDCookie)
	}
	return d.Errf("unknown field %q in event %q%s", field, ev.Name, caddyopts.Suggest(field, eventFields))
}

// eventFields are the fields of an event block, for suggestions.
var eventFields = amazon.NewEnum("event field", "match", "when_response", "event_name", "type", "source",
	"timestamp", "dedupe_id", "value", "value_scale", "currency", "units_sold", "country", "match_key",
	"custom", "limited_data_use", "ignore_gpc", "consent_tcf", "consent_gpp", "amazon_consent_user_data",
	"amazon_consent_ad_storage", "consent_ip", "require_consent", "user_agent", "event_id_header", "event_id_cookie",
	"data_set_name", "amazon_ad_event_key", "partner", "aref_measurement_tokens")

func (ev *Event) parseMatch(d *caddyfile.Dispenser) error {
	set, err := caddyhttp.ParseCaddyfileNestedMatcherSet(d)
	if err != nil {
		return err
	}
	ev.MatcherSetsRaw = append(ev.MatcherSetsRaw, set)
	return nil
}

// parseWhenResponse reads `when_response { status 2xx … ; header <field> [<value>] }`
// (or the same on one line) with Caddy's own response matcher parser.
func (ev *Event) parseWhenResponse(d *caddyfile.Dispenser) error {
	// Caddy's parser expects a matcher name first: give it this token.
	matchers := map[string]caddyhttp.ResponseMatcher{}
	if err := caddyhttp.ParseNamedResponseMatcher(d.NewFromNextSegment(), matchers); err != nil {
		return err
	}
	m := matchers["when_response"]
	ev.WhenResponse = &m
	return nil
}

func parseValueScale(d *caddyfile.Dispenser, target *float64) error {
	var arg string
	if err := caddyopts.One(d, &arg); err != nil {
		return err
	}
	f, err := strconv.ParseFloat(arg, 64)
	if err != nil || f <= 0 {
		return d.Errf("value_scale: %q is not a positive number such as 100", arg)
	}
	*target = f
	return nil
}

func parseMatchKey(d *caddyfile.Dispenser, keys *[]mapping.MatchKeyRule) error {
	args := d.RemainingArgs()
	if len(args) != 2 && len(args) != 3 {
		return d.Errf("match_key takes a type, a value and optionally the customer's country: match_key POSTAL body.billing.zip [body.billing.country]")
	}
	k := mapping.MatchKeyRule{Type: args[0], Value: args[1]}
	if len(args) == 3 {
		k.Country = args[2]
	}
	*keys = append(*keys, k)
	return nil
}

func parseCustom(d *caddyfile.Dispenser, attrs *[]mapping.CustomRule) error {
	args := d.RemainingArgs()
	if len(args) < 2 || len(args) > 3 {
		return d.Errf("custom takes a name, a value and optionally a data type: custom brand body.items.0.brand [STRING]")
	}
	c := mapping.CustomRule{Name: args[0], Value: args[1]}
	if len(args) == 3 {
		c.DataType = args[2]
	}
	*attrs = append(*attrs, c)
	return nil
}

// Interface guards
var _ caddyfile.Unmarshaler = (*Handler)(nil)
