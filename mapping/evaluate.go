package mapping

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// InvalidError says why a request gave no event. It names the field and the
// reason and never quotes the request's values, so it is safe to log.
type InvalidError struct {
	// Event is the event block's name.
	Event string
	// Field is the config field that failed.
	Field string
	// Reason says what was wrong, in words (it may name a path of the
	// config, never a value of the request).
	Reason string
	// Code is Reason as one of a fixed set of words (the Invalid*
	// constants), for counting by reason.
	Code string
}

// The codes of an InvalidError: a fixed set, so that counting invalid
// events by reason keeps a metric's labels bounded.
const (
	// InvalidNoValue is a required field with no value in the request.
	InvalidNoValue = "no_value"
	// InvalidBodyTooLarge is a body path read from a body above max_body.
	InvalidBodyTooLarge = "body_too_large"
	// InvalidBodyNotJSON is a body path read from a body that is not JSON.
	InvalidBodyNotJSON = "body_not_json"
	// InvalidNotSingle is an object or array where one value was wanted.
	InvalidNotSingle = "not_a_single_value"
	// InvalidEmpty is a required field whose value is empty.
	InvalidEmpty = "empty"
	// InvalidNotInList is a value not in its list (a currency or country
	// code, an enum of Amazon's).
	InvalidNotInList = "not_a_valid_code"
	// InvalidTime is a timestamp that cannot be read.
	InvalidTime = "bad_time"
	// InvalidNumber is a value or a number of units that cannot be read or
	// sent.
	InvalidNumber = "bad_number"
	// InvalidNegative is a negative value for OFF_AMAZON_PURCHASES.
	InvalidNegative = "negative"
	// InvalidNoMatchKey is an event none of whose match keys has a valid
	// value.
	InvalidNoMatchKey = "no_match_key"
	// InvalidConsent is a consent value no spelling matches, or an IP
	// address for consent that cannot be read.
	InvalidConsent = "unreadable_consent"
	// InvalidDuplicate is a mapped field the request carries twice (see
	// duplicate.go).
	InvalidDuplicate = "duplicate_field"
	// InvalidTooLong is a dedupe ID longer than MaxEventIDBytes.
	InvalidTooLong = "too_long"
	// InvalidNoConsent is an event without the consent signal
	// require_consent or the EU rule asks for.
	InvalidNoConsent = "no_consent"
)

// Error renders the reason as one line.
func (e *InvalidError) Error() string {
	return fmt.Sprintf("event %q, field %s: %s", e.Event, e.Field, e.Reason)
}

// TimeFormat is how event times are sent: RFC 3339 in UTC, whole seconds,
// YYYY-MM-DDThh:mm:ssZ, as in Amazon's examples (fractions are cut, not
// rounded, so an event is never dated in the future).
const TimeFormat = "2006-01-02T15:04:05Z"

// Evaluate builds the event for a request. It returns an *InvalidError when a
// required value is missing or a value is invalid.
func (m *Mapping) Evaluate(r *Request) (amazon.Event, error) { return m.EvaluateNoting(r, nil) }

// EvaluateNoting is Evaluate that also tells, in notes (when not nil), which
// match keys and custom attributes it left out and why.
func (m *Mapping) EvaluateNoting(r *Request, notes *Notes) (amazon.Event, error) {
	ev := evaluation{m: m, r: r}
	if notes != nil {
		ev.noting, ev.notes = true, *notes
	}
	e, err := ev.event()
	if notes != nil {
		*notes = ev.notes
	}
	return e, err
}

// event builds the event (see EvaluateNoting).
func (ev *evaluation) event() (amazon.Event, error) {
	m, r := ev.m, ev.r
	e := amazon.Event{
		EventDescription: amazon.EventDescription{
			Name:                 ev.text("event_name", &m.eventName, true),
			ConversionType:       ev.enum("type", &m.conversionType, conversionTypes, true),
			EventSource:          ev.enum("source", &m.source, eventSources, true),
			EventIngestionMethod: amazon.IngestionServerToServer,
		},
		EventTime:    ev.eventTime(),
		EventID:      ev.eventID(),
		CountryCode:  ev.enum("country", &m.country, countryCodes, true),
		CurrencyCode: ev.enum("currency", &m.currency, currencyCodes, m.currency.isSet()),
	}
	e.MatchKeys = ev.matchKeys(e.CountryCode)
	e.CustomData = ev.custom()
	e.EventDescription.DataSetName = m.dataSetName.key
	e.AmazonAdEventKey = ev.text("amazon_ad_event_key", &m.adEventKey, false)
	e.Partner = ev.text("partner", &m.partner, false)
	e.ArefMeasurementTokens = ev.arefTokens()
	e.Value = ev.value(e.EventDescription.ConversionType)
	e.UnitsSold = ev.units()
	if ev.limitedDataUse(&m.limitedDataUse) || (m.honorGPC && r.HTTP.Header.Get(gpcHeader) == "1") {
		p := ev.parts()
		p.processing.Options = amazon.LimitedDataUse
		e.DataProcessingOptions = &p.processing
	}
	var adStorage string
	e.Consent, adStorage = ev.consent()
	ev.checkConsent(e.Consent)
	if m.consentAdStorage.isSet() && adStorage != "GRANTED" {
		// A click token is ad storage's to keep: when ad storage is
		// mapped, only a grant sends it, whatever else is mapped (a
		// denial, no value, or one no spelling matches withholds it).
		e.ArefMeasurementTokens = ""
	}
	if ua := ev.text("user_agent", &m.userAgent, false); ua != "" && m.userAgent.key != "-" {
		p := ev.parts()
		p.device.UserAgent = cutRunes(ua, maxUserAgent)
		e.DeviceInfo = &p.device
	}
	if ev.err != nil {
		return amazon.Event{}, ev.err
	}
	if e.EventID == "" {
		e.EventID = r.fixedID(m.name)
	}
	if e.EventID == "" {
		e.EventID = NewEventID()
	}
	return e, nil
}

// gpcHeader is the Global Privacy Control header, Sec-GPC, in the
// canonical form Header.Get would otherwise make on every request.
const gpcHeader = "Sec-Gpc"

// DedupeID evaluates only the dedupe ID, so it can be handed to the browser
// before the event is built. ok is false when the ID is not mapped, comes
// from the response, or has no value.
func (m *Mapping) DedupeID(r *Request) (id string, ok bool) {
	if !m.dedupeID.isSet() || m.dedupeID.readsReply() {
		return "", false
	}
	// A body path is read by the mapping's pass over the body, which
	// Evaluate then finds made (see Request.scanned). When the request
	// already keeps another mapping's pass (several events matched), the
	// ID alone is read with gjson, which stops at it, so that this pass
	// does not replace the one the first event's Evaluate will use.
	ev := evaluation{m: m, r: r, onlyDedupeID: r.scan.of != 0 && r.scan.of != m.id}
	id = ev.eventID()
	return id, id != "" && ev.err == nil
}

// MaxEventIDBytes is the longest dedupe ID an event takes. Amazon's schema
// sets no limit; real order IDs are a few dozen bytes, and anyone can send
// a checkout, so a longer one is refused (the event is invalid, counted as
// too_long) rather than kept in the dedupe window, the spool and the logs.
const MaxEventIDBytes = 256

// eventID reads the mapped dedupe ID as the event, the response header and
// the cookie carry it alike (see SafeEventID); empty when not mapped or
// without a value, and invalid when longer than MaxEventIDBytes.
func (ev *evaluation) eventID() string {
	id := ev.text("dedupe_id", &ev.m.dedupeID, false)
	if len(id) > MaxEventIDBytes {
		ev.fail("dedupe_id", InvalidTooLong, fmt.Sprintf("longer than %d bytes", MaxEventIDBytes))
		return ""
	}
	return SafeEventID(id)
}

// SafeEventID is id as it can be sent unchanged in the event, an HTTP
// header and a cookie: bytes a cookie value cannot hold (controls, space,
// '"', ',', ';', '\\', non-ASCII) and '%' are percent-encoded, so the
// browser gets exactly the eventId Amazon gets (the Ad Tag's dedupe
// compares them). An ID of letters, digits and punctuation is unchanged.
func SafeEventID(id string) string {
	safe := true
	for i := 0; i < len(id) && safe; i++ {
		safe = cookieOctet(id[i])
	}
	if safe {
		return id
	}
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(id)+16)
	for i := 0; i < len(id); i++ {
		if c := id[i]; cookieOctet(c) {
			out = append(out, c)
		} else {
			out = append(out, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(out)
}

// cookieOctet reports whether c may stand in a cookie value as it is (RFC
// 6265's cookie-octet), and is not '%', which SafeEventID's escapes start.
func cookieOctet(c byte) bool {
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\' && c != '%'
}

// MapsDedupeID reports whether the rule maps a dedupe ID.
func (m *Mapping) MapsDedupeID() bool { return m.dedupeID.isSet() }

// evaluation holds the state of one Evaluate call; it keeps the first error.
type evaluation struct {
	m   *Mapping
	r   *Request
	err error
	// notes is kept here, not behind a pointer, so that the caller's
	// Notes does not escape to the heap; noting says they are wanted.
	notes  Notes
	noting bool
	// onlyDedupeID reads body paths with gjson on their own (see DedupeID).
	onlyDedupeID bool
	// allocated holds what the event points to, once something does.
	allocated *eventParts
}

// note is where the notes go, nil when they are not wanted.
func (ev *evaluation) note() *Notes {
	if !ev.noting {
		return nil
	}
	return &ev.notes
}

func (ev *evaluation) fail(field, code, reason string) {
	e := InvalidError{Event: ev.m.name, Field: field, Reason: reason, Code: code}
	ev.note().invalid(e) // every failure, when asked for (Notes.ListInvalid)
	if ev.err == nil {
		ev.err = &e
	}
}

func (ev *evaluation) get(field string, e *expr, required bool) (gjson.Result, bool) {
	if !e.isSet() {
		return gjson.Result{}, false
	}
	v, ok := ev.lookup(e)
	if !ok && required {
		code, reason := ev.missing(e)
		ev.fail(field, code, reason)
	}
	if ok && ev.duplicated(e) {
		ev.fail(field, InvalidDuplicate, e.String()+" occurs twice in the request (the shop's backend may have taken the other one)")
	}
	return v, ok
}

// missing says why e has no value: the body could not be read, or there
// is no value at the path; as a code and in words.
func (ev *evaluation) missing(e *expr) (code, reason string) {
	switch {
	case ev.r.BodyTooLarge && e.readsBody():
		return InvalidBodyTooLarge, "the request body is larger than max_body"
	case e.root == rootBody && len(ev.r.Body) > 0 && !ev.r.bodyIsJSON():
		return InvalidBodyNotJSON, "the request body is not valid JSON"
	}
	return InvalidNoValue, "no value at " + e.String()
}

// lookup reads a body path from the mapping's pass over the body (made on
// first use) and anything else from the request.
func (ev *evaluation) lookup(e *expr) (gjson.Result, bool) {
	r := ev.r
	if ev.onlyDedupeID || e.root != rootBody {
		return r.lookup(e)
	}
	if r.BodyTooLarge {
		return gjson.Result{}, false
	}
	scan := r.scanned(ev.m) // also for a path the pass does not read: it settles whether the body is JSON, once
	if e.slot == 0 {
		return r.lookup(e)
	}
	switch {
	case !r.bodyIsJSON():
		return gjson.Result{}, false
	case scan.kind == 0: // a single value: gjson's own reading of the path
		return r.lookup(e)
	case e.sum == nil:
		return exists(scan.value(r.bodyText(), e.slot))
	case scan.kind == '[':
		return exists(e.sum.sum(r.bodyText(), gjson.Result{}))
	}
	list := scan.value(r.bodyText(), e.slot)
	if e.sumIndex > 0 && list.IsArray() {
		return gjson.Result{Type: gjson.Number, Num: scan.totals[e.sumIndex-1]}, true
	}
	return exists(e.sum.sum(r.bodyText(), list))
}

func (ev *evaluation) text(field string, e *expr, required bool) string {
	v, ok := ev.get(field, e, required)
	if !ok {
		return ""
	}
	if v.Type == gjson.JSON {
		ev.fail(field, InvalidNotSingle, "is an object or array, not a single value")
		return ""
	}
	s := strings.TrimSpace(v.String())
	if s == "" && required {
		ev.fail(field, InvalidEmpty, "empty value at "+e.String())
	}
	return s
}

// enum reads a value of set, in upper case; the text is the set's own.
func (ev *evaluation) enum(field string, e *expr, set enumIndex, required bool) string {
	s := ev.text(field, e, required)
	if s == "" {
		return ""
	}
	v, ok := set.upper(s)
	if !ok {
		ev.fail(field, InvalidNotInList, "not a valid value of "+enumName(field))
		return ""
	}
	return v
}

func enumName(field string) string {
	switch field {
	case "currency":
		return "ISO-4217 currency codes"
	case "country":
		return "ISO 3166-1 alpha-2 country codes"
	}
	return field
}

func (ev *evaluation) eventTime() string {
	v, ok := ev.get("timestamp", &ev.m.timestamp, false)
	if !ok {
		return formatEventTime(ev.r.arrived())
	}
	t, err := parseTime(raw(v))
	if err != nil {
		ev.fail("timestamp", InvalidTime, err.Error())
		return ""
	}
	if t.After(ev.r.arrived().Add(amazon.MaxEventTimeAhead)) {
		ev.fail("timestamp", InvalidTime, fmt.Sprintf("more than %s in the future", amazon.MaxEventTimeAhead))
		return ""
	}
	return formatEventTime(t)
}

func (ev *evaluation) value(conversionType string) *float64 {
	v, ok := ev.get("value", &ev.m.value, false)
	if !ok {
		return nil
	}
	f, err := roundValue(float(v))
	if err != nil {
		ev.fail("value", InvalidNumber, err.Error())
		return nil
	}
	if ev.m.valueScale != 1 {
		f, _ = parseValue(strconv.FormatFloat(f/ev.m.valueScale, 'f', -1, 64))
	}
	if f < 0 && conversionType == "OFF_AMAZON_PURCHASES" {
		ev.fail("value", InvalidNegative, "negative value for OFF_AMAZON_PURCHASES")
		return nil
	}
	p := ev.parts()
	p.value = f
	return &p.value
}

func (ev *evaluation) units() *int64 {
	v, ok := ev.get("units_sold", &ev.m.unitsSold, false)
	if !ok {
		return nil
	}
	n, err := wholeUnits(float(v))
	if err != nil {
		ev.fail("units_sold", InvalidNumber, err.Error())
		return nil
	}
	p := ev.parts()
	p.units = n
	return &p.units
}

// matchKeys evaluates every match key, normalized for the customer's
// country (the key's own country mapping, else the event's). A key without
// a value, or with one Amazon's rules reject, is left out (and noted); the
// event is invalid only when none is left.
func (ev *evaluation) matchKeys(eventCountry string) []amazon.MatchKey {
	keys := make([]amazon.MatchKey, 0, len(ev.m.matchKeys))
	values := make([]string, len(ev.m.matchKeys)) // one array behind every key's Values
	var skipped []string
	for i := range ev.m.matchKeys {
		k := &ev.m.matchKeys[i]
		v, ok := ev.get(k.field, &k.value, false)
		if !ok {
			skipped = append(skipped, k.keyType+" missing")
			if ev.noting {
				_, why := ev.missing(&k.value)
				ev.notes.dropKey(k.field, k.keyType, "missing", why)
			}
			continue
		}
		keep := ev.noting && ev.notes.ShowNormalized
		normalized, sent, err := matchKey(k.keyType, v.String(), ev.keyCountry(k, eventCountry), keep)
		if err != nil {
			skipped = append(skipped, k.keyType+" "+err.Error())
			ev.note().dropKey(k.field, k.keyType, keyReason(err), err.Error())
			continue
		}
		if keep && normalized != "" {
			ev.notes.Normalized = append(ev.notes.Normalized, NormalizedKey{Type: k.keyType, Normalized: normalized, Hash: sent})
		}
		values[i] = sent
		keys = append(keys, amazon.MatchKey{Type: k.keyType, Values: values[i : i+1 : i+1]})
	}
	if len(keys) == 0 {
		reason := "no match key had a valid value (" + strings.Join(skipped, "; ") + ")"
		switch {
		case ev.r.BodyTooLarge:
			reason += "; the request body is larger than max_body"
		case len(ev.r.Body) > 0 && !ev.r.bodyIsJSON():
			reason += "; the request body is not valid JSON"
		}
		ev.fail("match_key", InvalidNoMatchKey, reason)
	}
	return keys
}

// keyCountry is the country a match key is normalized for: the key's own
// country mapping when it gives a valid code, else the event's.
func (ev *evaluation) keyCountry(k *compiledKey, eventCountry string) string {
	if !k.country.isSet() {
		return eventCountry
	}
	v, ok := ev.lookup(&k.country)
	if c, known := countryCodes.upper(strings.TrimSpace(v.String())); ok && known {
		return c
	}
	return eventCountry
}

func (ev *evaluation) custom() []amazon.CustomData {
	if len(ev.m.custom) == 0 {
		return nil
	}
	out := make([]amazon.CustomData, 0, len(ev.m.custom))
	for i := range ev.m.custom {
		c := &ev.m.custom[i]
		v, ok := ev.get(c.field, &c.value, false)
		if !ok {
			continue
		}
		val, err := customValue(c.dataType, raw(v))
		if err != nil {
			ev.note().dropCustom(c.field, c.name, customReason(err), err.Error())
			continue
		}
		out = append(out, amazon.CustomData{Name: c.name, DataType: c.dataType, Value: val})
	}
	return out
}

// arefTokens reads the click tokens, keeping the well-formed pairs; the
// others are left out and noted.
func (ev *evaluation) arefTokens() string {
	s := ev.text("aref_measurement_tokens", &ev.m.aref, false)
	if s == "" {
		return ""
	}
	kept, dropped := filterArefTokens(s)
	if maxAge := ev.m.opts.ClickTokenMaxAge; maxAge > 0 {
		var stale int
		kept, stale = withinWindow(kept, ev.r.arrived(), maxAge)
		dropped += stale
	}
	if ev.noting {
		ev.notes.MalformedClickTokens += dropped
	}
	return kept
}

// consent builds the event's consent and gives the ad-storage status read
// (GRANTED, DENIED, or "" for no value or an unreadable one). Amazon's
// schema requires amznUserData in amazonConsent (amznAdStorage is
// optional), so amazonConsent is sent only with a user-data status; ad
// storage alone decides the click token and is not sent.
func (ev *evaluation) consent() (*amazon.Consent, string) {
	tcf := ev.text("consent_tcf", &ev.m.consentTCF, false)
	gpp := ev.text("consent_gpp", &ev.m.consentGPP, false)
	var addr string
	if ip := ev.text("consent_ip", &ev.m.consentIP, false); ip != "" {
		var err error
		if addr, err = parseIP(ip); err != nil {
			ev.fail("consent_ip", InvalidConsent, err.Error())
		}
	}
	user := ev.consentStatus("amazon_consent_user_data", &ev.m.consentUserData)
	storage := ev.consentStatus("amazon_consent_ad_storage", &ev.m.consentAdStorage)
	if tcf == "" && gpp == "" && addr == "" && user == "" {
		return nil, storage
	}
	p := ev.parts()
	c := &p.consent
	c.TCF, c.GPP = tcf, gpp
	if addr != "" {
		p.geo.IPAddress = addr
		c.Geo = &p.geo
	}
	if user != "" {
		p.amazonConsent = amazon.AmazonConsent{AmznUserData: user, AmznAdStorage: storage}
		c.AmazonConsent = &p.amazonConsent
	}
	return c, storage
}

// checkConsent applies require_consent and the EU rule.
func (ev *evaluation) checkConsent(c *amazon.Consent) {
	explicit := c != nil && (c.TCF != "" || c.GPP != "" || c.AmazonConsent != nil)
	switch {
	case ev.m.requireConsent && !explicit:
		ev.fail("consent", InvalidNoConsent, "no consent signal (consent_tcf, consent_gpp or amazon_consent_user_data) and require_consent is set")
	case ev.m.opts.EU && c.Empty():
		ev.fail("consent", InvalidNoConsent, "Amazon requires a consent signal (geo IP, amazonConsent, TCF or GPP) for EU advertisers and this event has none")
	}
}

func (ev *evaluation) consentStatus(field string, e *expr) string {
	s := ev.text(field, e, false)
	if s == "" {
		return ""
	}
	st, err := parseConsentStatus(s)
	if err != nil {
		ev.fail(field, InvalidConsent, err.Error()) // fails closed: no event without a readable consent
		if ev.noting {
			ev.notes.UnknownConsent = append(ev.notes.UnknownConsent, field)
		}
	}
	return st
}

// limitedDataUse reads the limited_data_use mapping: a yes spelling (or
// LIMITED_DATA_USE) restricts, a no spelling does not, and a value no
// spelling matches restricts too (privacy fails closed) and is noted.
func (ev *evaluation) limitedDataUse(e *expr) bool {
	v, ok := ev.get("limited_data_use", e, false)
	s := strings.TrimSpace(v.String())
	if !ok || s == "" {
		return false
	}
	if strings.EqualFold(s, amazon.LimitedDataUse) {
		return true
	}
	yes, known := consentValue(s)
	if !known && ev.noting {
		ev.notes.UnknownConsent = append(ev.notes.UnknownConsent, "limited_data_use")
	}
	return yes || !known
}

func (r *Request) arrived() time.Time {
	if r.Arrived.IsZero() {
		return time.Now()
	}
	return r.Arrived
}

// raw gives a JSON number's text as written and any other value's string.
func raw(v gjson.Result) string {
	if v.Type == gjson.Number && v.Raw != "" {
		return v.Raw
	}
	return strings.TrimSpace(v.String())
}

// parseTime reads RFC 3339 text (with or without fractions or zone) or Unix
// seconds or milliseconds.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if unsigned := strings.TrimLeft(s, "+-"); unsigned != "" && len(s)-len(unsigned) <= 1 && strings.Trim(unsigned, digits) == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, errors.New("a Unix timestamp out of range")
		}
		if n > 1e11 { // milliseconds
			return time.UnixMilli(n), nil
		}
		return time.Unix(n, 0), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an ISO-8601 / RFC 3339 time or Unix timestamp")
}

// parseValue reads a number or numeric string and rounds it to two decimals.
func parseValue(s string) (float64, error) { return roundValue(parseFloat(s)) }

// roundValue rounds a value read as a number to two decimals.
func roundValue(f float64, err error) (float64, error) {
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errNotANumber
	}
	if math.Abs(f) >= amazon.MaxValue {
		return 0, errValueTooLarge
	}
	return math.Round(f*100) / 100, nil
}

// parseUnits reads a whole, non-negative number (3, "3" or 3.0).
func parseUnits(s string) (int64, error) { return wholeUnits(parseFloat(s)) }

// wholeUnits checks that units read as a number are whole and not negative.
func wholeUnits(f float64, err error) (int64, error) {
	if err != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return 0, errNotWholeUnits
	}
	return int64(f), nil
}

// Why a value or units_sold is refused.
var (
	errNotANumber    = errors.New("not a number")
	errValueTooLarge = errors.New("too large to send with two decimals (10^13 or more)")
	errNotWholeUnits = errors.New("not a whole number of units")
	errNotIPAddress  = errors.New("not an IP address")
)

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(strings.TrimSpace(s), 64) }

// float reads v as parseFloat(raw(v)) does. A JSON number's Num is what
// strconv.ParseFloat makes of its text (gjson reads it so, and a sum is
// exact), so its text is not made or read again.
func float(v gjson.Result) (float64, error) {
	if v.Type == gjson.Number {
		return v.Num, nil
	}
	return parseFloat(raw(v))
}

func parseIP(s string) (string, error) {
	ip, ok := canonicalIP(strings.TrimSpace(s))
	if !ok {
		return "", errNotIPAddress
	}
	return ip, nil
}

// Why a custom attribute's value does not fit its type: Amazon takes only
// letters, digits and '_' in a value, an INTEGER is 32-bit signed (so a
// negative one, with its '-', cannot be sent), a TIMESTAMP a time.
var (
	errNotInteger      = errors.New("not a 32-bit integer")
	errNegativeInteger = errors.New("a negative integer: Amazon takes only letters, digits and _ in a value")
	errNoLetters       = errors.New("nothing left after removing characters other than letters, digits and _")
)

// customValue checks INTEGER and TIMESTAMP values and reduces STRING values
// to the letters, digits and underscores Amazon accepts. A value that does
// not fit is left out of the event, not the event.
func customValue(dataType, s string) (string, error) {
	switch dataType {
	case "INTEGER":
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return "", errNotInteger
		}
		if n < 0 {
			return "", errNegativeInteger
		}
		return strconv.FormatInt(n, 10), nil
	case "TIMESTAMP":
		t, err := parseTime(s)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(t.Unix(), 10), nil
	}
	out := strings.Trim(underscoreOthers(s), "_")
	if out == "" {
		return "", errNoLetters
	}
	return out, nil
}

// customReason is the metric label of a custom value that does not fit.
func customReason(err error) string {
	switch err {
	case errNotInteger:
		return "not_integer"
	case errNegativeInteger:
		return "negative_integer"
	case errNoLetters:
		return "no_letters_or_digits"
	}
	return "not_a_time"
}

// underscoreOthers replaces each run of characters other than letters,
// digits and '_' by one '_'; a value without any is given back as is.
func underscoreOthers(s string) string {
	if strings.IndexFunc(s, isNotWordRune) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	prevUnderscore := false
	for _, r := range s {
		if !isNotWordRune(r) {
			b.WriteRune(r)
			prevUnderscore = r == '_'
		} else if !prevUnderscore {
			b.WriteByte('_')
			prevUnderscore = true
		}
	}
	return b.String()
}

func isNotWordRune(r rune) bool {
	return !((r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_')
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
