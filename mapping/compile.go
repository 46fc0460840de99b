package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Limits Amazon sets on an event (generated from its schema).
const (
	maxMatchKeys  = amazon.MaxMatchKeys
	maxCustomData = amazon.MaxCustomData
	maxUserAgent  = amazon.MaxUserAgent
)

// Mapping is a compiled Rule, ready to evaluate requests. It is immutable
// and safe for concurrent use.
type Mapping struct {
	name                                    string
	eventName, conversionType, source       expr
	timestamp, dedupeID, value, currency    expr
	unitsSold, country, limitedDataUse      expr
	consentTCF, consentGPP, consentUserData expr
	consentAdStorage, consentIP, userAgent  expr
	dataSetName, adEventKey, partner, aref  expr
	valueScale                              float64
	opts                                    Options
	requireConsent, honorGPC                bool
	matchKeys                               []compiledKey
	custom                                  []compiledCustom
	readsBody, readsResponse, readsRespBody bool
	// hashedKeys counts the match keys of hashed types.
	hashedKeys int
	// keys are the keys on the way to the body paths, checked for
	// duplicates once per request (see bodyKeys).
	keys bodyKeys
	// id tells this mapping's duplicates from another's in a Request (see
	// Mapping.duplicates): a number, where a pointer kept in the Request
	// would make the compiler move every evaluation's notes to the heap.
	id uint64
}

// mappingIDs numbers the compiled mappings.
var mappingIDs atomic.Uint64

type compiledKey struct {
	keyType string
	value   expr
	country expr   // unset: the event's country
	field   string // "match_key[<i>] <type>", as errors and notes name it
}

type compiledCustom struct {
	name, dataType string
	value          expr
	field          string // "custom <name>", as errors name it
}

var customNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// Options are the destination's settings that change how events are built.
type Options struct {
	// EU is set for the eu region: Amazon requires a consent signal (geo,
	// amazonConsent, tcf or gpp) on every event, so one without is refused
	// before sending.
	EU bool
	// ClickTokenCookie, when set, is the click_token cookie: an event that
	// maps no aref_measurement_tokens sends that cookie's click tokens.
	ClickTokenCookie string
	// ClickTokenMaxAge, when set, is how long a click counts: older click
	// tokens (and ones dated in the future) are not sent.
	ClickTokenMaxAge time.Duration
}

// Compile checks a Rule for the event called name and compiles it. Every
// problem is reported, each naming the event and the field; Compile does no
// I/O.
func Compile(name string, r Rule) (*Mapping, error) { return CompileWith(name, r, Options{}) }

// CompileWith is Compile with the destination's options.
func CompileWith(name string, r Rule, opts Options) (*Mapping, error) {
	c := compiler{m: &Mapping{name: name, opts: opts, requireConsent: r.RequireConsent, honorGPC: !r.IgnoreGPC, id: mappingIDs.Add(1)}, event: name}
	m := c.m
	m.valueScale = r.ValueScale
	if r.ValueScale < 0 {
		c.fail("value_scale", errors.New("must be positive, e.g. 100 for cents"))
	}
	if r.ValueScale == 0 {
		m.valueScale = 1
	}
	m.eventName = c.field("event_name", orDefault(r.EventName, name), nil)
	if !m.eventName.isLiteral() {
		c.fail("event_name", errors.New("must be a fixed name (the event's name in Amazon), not a path or placeholder"))
	}
	m.conversionType = c.required("type", r.Type, checkEnum(amazon.ConversionTypes))
	m.source = c.field("source", orDefault(r.Source, "WEBSITE"), checkEnum(amazon.EventSources))
	m.timestamp = c.field("timestamp", r.Timestamp, checkLiteral(parseTime))
	m.dedupeID = c.varying("dedupe_id", c.field("dedupe_id", r.DedupeID, nil),
		"every event would get the same eventId, and Amazon (and the dedupe window) would keep only the first")
	m.value = c.field("value", r.Value, checkLiteral(parseValue))
	m.currency = c.field("currency", r.Currency, checkEnumUpper(amazon.CurrencyCodes))
	m.unitsSold = c.field("units_sold", r.UnitsSold, checkLiteral(parseUnits))
	c.purchaseOnly()
	m.country = c.required("country", r.Country, checkEnumUpper(amazon.CountryCodes))
	m.limitedDataUse = c.field("limited_data_use", r.LimitedDataUse, nil)
	m.consentTCF = c.field("consent_tcf", r.ConsentTCF, nil)
	m.consentGPP = c.field("consent_gpp", r.ConsentGPP, nil)
	m.consentUserData = c.field("amazon_consent_user_data", r.ConsentUserData, checkLiteral(parseConsentStatus))
	m.consentAdStorage = c.field("amazon_consent_ad_storage", r.ConsentAdStorage, checkLiteral(parseConsentStatus))
	if strings.TrimSpace(r.ConsentIP) != "-" {
		m.consentIP = c.field("consent_ip", orDefault(r.ConsentIP, "request.remote_ip"), checkLiteral(parseIP))
	}
	m.userAgent = c.field("user_agent", orDefault(r.UserAgent, "request.user_agent"), nil)
	m.dataSetName = c.field("data_set_name", r.DataSetName, checkDataSetName)
	if !m.dataSetName.isLiteral() {
		c.fail("data_set_name", errors.New("must be a fixed name (the data set's name in Amazon), not a path or placeholder"))
	}
	m.adEventKey = c.field("amazon_ad_event_key", r.AmazonAdEventKey, nil)
	m.partner = c.field("partner", r.Partner, nil)
	aref := r.ArefMeasurementTokens
	if aref == "" && opts.ClickTokenCookie != "" {
		aref = "cookie." + opts.ClickTokenCookie
	}
	m.aref = c.field("aref_measurement_tokens", aref, checkLiteral(parseArefTokens))
	c.matchKeys(r.MatchKeys)
	c.custom(r.Custom)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return m, nil
}

// MapsExplicitConsent reports whether the rule maps TCF, GPP or Amazon's
// consent, so config loading can warn an EU advertiser who maps none.
func (m *Mapping) MapsExplicitConsent() bool {
	return m.consentTCF.isSet() || m.consentGPP.isSet() || m.consentUserData.isSet()
}

// EventName is the event's name in Amazon (a fixed string).
func (m *Mapping) EventName() string { return m.eventName.key }

// Name is the event block's name.
func (m *Mapping) Name() string { return m.name }

// ReadsBody reports whether any field reads the request body (body. or form.),
// so the caller tees the body only when it is needed.
func (m *Mapping) ReadsBody() bool { return m.readsBody }

// ReadsResponse reports whether any field reads the site's answer.
func (m *Mapping) ReadsResponse() bool { return m.readsResponse }

// ReadsResponseBody reports whether any field reads the response body.
func (m *Mapping) ReadsResponseBody() bool { return m.readsRespBody }

type compiler struct {
	m     *Mapping
	event string
	errs  []error
}

func (c *compiler) fail(field string, err error) {
	c.errs = append(c.errs, &FieldError{Event: c.event, Field: field, Err: err})
}

// FieldError is a mistake in one field of an event's rule. Compile returns
// one per mistake, joined (errors.Join).
type FieldError struct {
	// Event is the event block's name.
	Event string
	// Field names the field as the Caddyfile writes it: type, value,
	// match_key[0] (the first match_key line), custom brand, …
	Field string
	// Err says what is wrong.
	Err error
}

// Error says the event, the field and what is wrong.
func (e *FieldError) Error() string {
	return fmt.Sprintf("event %q, field %s: %v", e.Event, e.Field, e.Err)
}

// Unwrap returns what is wrong, without the event and field.
func (e *FieldError) Unwrap() error { return e.Err }

// field compiles one optional field; check, when given, validates a literal.
func (c *compiler) field(name, value string, check func(string) error) expr {
	e, err := parseExpr(value)
	if err != nil {
		c.fail(name, err)
		return expr{}
	}
	if e.isLiteral() && e.key != "" && check != nil {
		if err := check(e.key); err != nil {
			c.fail(name, withPathHint(err, e))
		}
	}
	c.note(e)
	return c.walked(e)
}

// walked gives a request body path the bits of the keys on its way (see
// bodyKeys).
func (c *compiler) walked(e expr) expr {
	if e.root == rootBody {
		e.along = c.m.keys.add(e.key)
	}
	return e
}

// purchaseOnly applies Amazon's rules for the purchase fields: a purchase
// needs a currency (Amazon refuses OFF_AMAZON_PURCHASES without one);
// unitsSold and currencyCode are sent on purchases only, so mapping them on
// another type is refused rather than silently left out.
func (c *compiler) purchaseOnly() {
	if !c.m.conversionType.isLiteral() {
		return
	}
	purchase := c.m.conversionType.key == purchaseType
	switch {
	case purchase && !c.m.currency.isSet():
		c.fail("currency", errors.New("is required for OFF_AMAZON_PURCHASES: map it (currency body.order.currency) or give the shop's currency (currency USD)"))
	case !purchase && c.m.currency.isSet():
		c.fail("currency", errors.New("is sent with OFF_AMAZON_PURCHASES only (value is then on your own scale); remove it"))
	case !purchase && c.m.unitsSold.isSet():
		c.fail("units_sold", errors.New("is sent with OFF_AMAZON_PURCHASES only; remove it"))
	}
}

// purchaseType is the conversion type of purchases, the only one with a
// currency and units sold.
const purchaseType = "OFF_AMAZON_PURCHASES"

// varying refuses a field that can only ever give one constant, when a
// constant there loses data (what says how), unless it is written
// explicitly as literal:<value>.
func (c *compiler) varying(name string, e expr, what string) expr {
	if !e.isLiteral() || e.explicit || e.key == "" {
		return e
	}
	c.fail(name, fmt.Errorf("%q is a constant, not a path: %s. %s; for a deliberate constant write %s%s",
		e.key, what, pathHint(e.key), LiteralPrefix, e.key))
	return e
}

// withPathHint adds to a literal's error what the literal may have been
// meant as, when it looks like a path without its root.
func withPathHint(err error, e expr) error {
	if !looksLikePath(e.key) {
		return err
	}
	return fmt.Errorf("%w. %s", err, pathHint(e.key))
}

// plainPath is a path of keys and indexes only (order.id, items.0.sku).
var plainPath = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// looksLikePath reports whether a literal reads like a path missing its
// root (order.id, customer.email), not a value (12.50, user@example.com).
func looksLikePath(s string) bool {
	if !plainPath.MatchString(s) || !strings.Contains(s, ".") {
		return false
	}
	first, _, _ := strings.Cut(s, ".")
	_, err := strconv.ParseFloat(first, 64)
	return err != nil
}

// pathHint suggests the path a literal was likely meant to be.
func pathHint(lit string) string {
	if looksLikePath(lit) || plainPath.MatchString(lit) {
		return fmt.Sprintf("Did you mean body.%s? (a path starts with one of %s)", lit, strings.Join(Roots, ", "))
	}
	return fmt.Sprintf("A path starts with one of %s", strings.Join(Roots, ", "))
}

func (c *compiler) required(name, value string, check func(string) error) expr {
	if strings.TrimSpace(value) == "" {
		c.fail(name, errors.New("is required"))
		return expr{}
	}
	return c.field(name, value, check)
}

func (c *compiler) note(e expr) {
	c.m.readsBody = c.m.readsBody || e.readsBody()
	c.m.readsResponse = c.m.readsResponse || e.readsReply()
	c.m.readsRespBody = c.m.readsRespBody || e.root == rootResponseBody
}

func (c *compiler) matchKeys(keys []MatchKeyRule) {
	if len(keys) == 0 {
		c.fail("match_key", errors.New("at least one is required, e.g. match_key EMAIL body.customer.email"))
	}
	if len(keys) > maxMatchKeys {
		c.fail("match_key", fmt.Errorf("%d given, Amazon takes at most %d", len(keys), maxMatchKeys))
	}
	for i, k := range keys {
		field := fmt.Sprintf("match_key[%d]", i)
		if err := amazon.MatchKeyTypes.Check(k.Type); err != nil {
			c.fail(field, err)
			continue
		}
		country := c.field(field+" country", k.Country, checkEnumUpper(amazon.CountryCodes))
		e := c.field(field+" "+k.Type, k.Value, func(lit string) error {
			_, err := MatchKeyValue(k.Type, lit, literalCountry(country, c.m.country))
			if err != nil {
				return fmt.Errorf("literal is not a valid %s: %w", k.Type, err)
			}
			return nil
		})
		if !e.isSet() {
			c.fail(field, errors.New("has no value"))
		}
		e = c.varying(field+" "+k.Type, e, "every event would be attributed to the same person")
		if amazon.IsHashedKeyType(k.Type) {
			c.m.hashedKeys++
		}
		c.m.matchKeys = append(c.m.matchKeys, compiledKey{keyType: k.Type, value: e, country: country, field: field + " " + k.Type})
	}
}

func (c *compiler) custom(attrs []CustomRule) {
	if len(attrs) > maxCustomData {
		c.fail("custom", fmt.Errorf("%d given, Amazon takes at most %d", len(attrs), maxCustomData))
	}
	for _, a := range attrs {
		field := "custom " + a.Name
		if !customNamePattern.MatchString(a.Name) {
			c.fail(field, errors.New("name must be letters, digits and underscores"))
		}
		dt := orDefault(strings.ToUpper(a.DataType), "STRING")
		if err := amazon.CustomDataTypes.Check(dt); err != nil {
			c.fail(field, err)
		}
		e := c.field(field, a.Value, nil)
		c.m.custom = append(c.m.custom, compiledCustom{name: a.Name, dataType: dt, value: e, field: "custom " + a.Name})
	}
}

// literalCountry is the country a literal match key is checked for: the
// key's or the event's, when fixed; else the generic rules.
func literalCountry(key, event expr) string {
	for _, e := range []expr{key, event} {
		if e.isLiteral() && e.key != "" {
			return strings.ToUpper(e.key)
		}
	}
	return ""
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}

func checkEnum(e amazon.Enum) func(string) error { return e.Check }

// dataSetNamePattern is Amazon's pattern for dataSetName, anchored.
var dataSetNamePattern = regexp.MustCompile(`^(?:` + amazon.DataSetNamePattern + `)$`)

func checkDataSetName(s string) error {
	if !dataSetNamePattern.MatchString(s) {
		return errors.New("must be a letter followed by letters, digits, '_' or '-' (Amazon's pattern for dataSetName)")
	}
	return nil
}

func checkEnumUpper(e amazon.Enum) func(string) error {
	return func(s string) error { return e.Check(strings.ToUpper(s)) }
}

func checkLiteral[T any](parse func(string) (T, error)) func(string) error {
	return func(s string) error {
		_, err := parse(s)
		return err
	}
}
