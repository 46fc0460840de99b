package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

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

// evaluation holds the state of one Evaluate call; it keeps the first error.
type evaluation struct {
	m   *Mapping
	r   *Request
	err error
	// notes is kept here, not behind a pointer, so that the caller's
	// Notes does not escape to the heap; noting says they are wanted.
	notes  Notes
	noting bool
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
	v, ok := ev.r.lookup(e)
	if !ok && required {
		code, reason := ev.missing(e)
		ev.fail(field, code, reason)
	}
	if ok && (len(v.Raw) > MaxValueBytes || len(v.Str) > MaxValueBytes) {
		ev.fail(field, InvalidTooLong, fmt.Sprintf("longer than %d bytes", MaxValueBytes))
		return gjson.Result{}, false
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
	v, ok := ev.r.lookup(&k.country)
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
