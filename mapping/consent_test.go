package mapping

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func consentRequest(gpc string, cookies map[string]string) *Request {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if gpc != "" {
		r.Header.Set("Sec-GPC", gpc)
	}
	for k, v := range cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	return &Request{HTTP: r, RemoteIP: "198.51.100.9", Body: []byte(`{"customer":{"email":"a@b.example"}}`)}
}

func TestGlobalPrivacyControlSetsLimitedDataUseUnlessIgnored(t *testing.T) {
	m := mustCompile(t, validRule())
	e, _ := m.Evaluate(consentRequest("1", nil))
	if e.DataProcessingOptions == nil || e.DataProcessingOptions.Options != "LIMITED_DATA_USE" {
		t.Errorf("Sec-GPC: 1 gave %+v", e.DataProcessingOptions)
	}
	if e, _ := m.Evaluate(consentRequest("", nil)); e.DataProcessingOptions != nil {
		t.Error("LIMITED_DATA_USE without GPC")
	}
	r := validRule()
	r.IgnoreGPC = true
	if e, _ := mustCompile(t, r).Evaluate(consentRequest("1", nil)); e.DataProcessingOptions != nil {
		t.Error("ignore_gpc did not turn it off")
	}
}

func TestConsentFieldsAndTheirDefaults(t *testing.T) {
	r := validRule()
	r.ConsentTCF, r.ConsentGPP = "cookie.euconsent-v2", "cookie.gpp"
	r.ConsentUserData, r.ConsentAdStorage = "cookie.ads_ok", "cookie.storage_ok"
	e, err := mustCompile(t, r).Evaluate(consentRequest("", map[string]string{"euconsent-v2": "CPX", "gpp": "DBABM", "ads_ok": "yes", "storage_ok": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	c := e.Consent
	if c.TCF != "CPX" || c.GPP != "DBABM" || c.AmazonConsent.AmznUserData != "GRANTED" || c.AmazonConsent.AmznAdStorage != "DENIED" || c.Geo.IPAddress != "198.51.100.9" {
		t.Errorf("consent %+v %+v %+v", c, c.AmazonConsent, c.Geo)
	}
	r = validRule()
	r.ConsentIP = "-"
	if e, _ := mustCompile(t, r).Evaluate(consentRequest("", nil)); e.Consent != nil {
		t.Errorf("consent_ip - still sent %+v", e.Consent)
	}
}

func TestRequireConsentAndTheEURule(t *testing.T) {
	r := validRule()
	r.RequireConsent, r.ConsentTCF = true, "cookie.euconsent-v2"
	m := mustCompile(t, r)
	_, err := m.Evaluate(consentRequest("", nil))
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Field != "consent" {
		t.Errorf("no consent with require_consent: %v", err)
	}
	if _, err := m.Evaluate(consentRequest("", map[string]string{"euconsent-v2": "CPX"})); err != nil {
		t.Errorf("with a TCF string: %v", err)
	}

	r = validRule()
	r.ConsentIP = "-"
	eu, err := CompileWith("purchase", r, Options{EU: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eu.Evaluate(consentRequest("", nil)); !errors.As(err, &inv) || inv.Field != "consent" {
		t.Errorf("EU event without any consent signal: %v", err)
	}
	r.ConsentIP = ""
	eu, _ = CompileWith("purchase", r, Options{EU: true})
	if e, err := eu.Evaluate(consentRequest("", nil)); err != nil || e.Consent.Geo == nil {
		t.Errorf("EU event with the default geo IP: %v", err)
	}
	if eu.MapsExplicitConsent() {
		t.Error("no explicit consent is mapped")
	}
}

func TestConsentAsSitesSpellIt(t *testing.T) {
	for _, s := range []string{"true", "YES", "1", "granted", "Enabled", "opted_in", "opted-in", "OptIn", "accept", "allow", "GRANTED"} {
		if st, err := parseConsentStatus(s); err != nil || st != "GRANTED" {
			t.Errorf("%q: %q %v, want GRANTED", s, st, err)
		}
	}
	for _, s := range []string{"false", "No", "0", "denied", "disabled", "opted_out", "Opt-Out", "optout", "reject", "deny", "DENIED"} {
		if st, err := parseConsentStatus(s); err != nil || st != "DENIED" {
			t.Errorf("%q: %q %v, want DENIED", s, st, err)
		}
	}
	for _, s := range []string{"maybe", "c1:1,c2:0", "2"} {
		if _, err := parseConsentStatus(s); err == nil || strings.Contains(err.Error(), s) {
			t.Errorf("%q: %v, want an error that does not quote it", s, err)
		}
	}
}

func TestAnUnknownConsentValueFailsClosedAndIsNoted(t *testing.T) {
	r := checkoutRule()
	r.ConsentUserData = "header.X-Consent"
	req := checkoutRequest(checkoutJSON)
	req.HTTP.Header.Set("X-Consent", "perhaps")
	var notes Notes
	if _, err := mustCompile(t, r).EvaluateNoting(req, &notes); err == nil {
		t.Error("an event with an unreadable consent was built")
	}
	if len(notes.UnknownConsent) != 1 || notes.UnknownConsent[0] != "amazon_consent_user_data" {
		t.Errorf("notes %+v", notes.UnknownConsent)
	}
	// limited_data_use restricts on a value it cannot read.
	r = checkoutRule()
	r.IgnoreGPC = true
	r.LimitedDataUse = "header.X-LDU"
	for value, restricted := range map[string]bool{"opted_out": false, "no": false, "accept": true, "LIMITED_DATA_USE": true, "whatever": true} {
		req := checkoutRequest(checkoutJSON)
		req.HTTP.Header.Set("X-LDU", value)
		e, err := mustCompile(t, r).Evaluate(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.DataProcessingOptions != nil; got != restricted {
			t.Errorf("limited_data_use %q: restricted %v, want %v", value, got, restricted)
		}
	}
}

// The consent states of the decision table in docs/configuration.md
// ("Consent").
const (
	unmapped   = "unmapped"
	granted    = "granted"
	denied     = "denied"
	noValue    = "no value"
	unreadable = "unreadable"
)

// consentCase builds a rule and a request for one cell of the decision
// table: each of user data and ad storage unmapped, or mapped to a cookie
// holding granted, denied, nothing, or a value no spelling matches. The
// click token comes from the click_token cookie.
func consentCase(t *testing.T, user, storage string) (*Mapping, *Request) {
	t.Helper()
	r := validRule()
	cookies := map[string]string{"amzn_aref": "AbCdEf1234.1764072000000"}
	for _, f := range []struct {
		state, cookie string
		field         *string
	}{{user, "cmp_user", &r.ConsentUserData}, {storage, "cmp_ads", &r.ConsentAdStorage}} {
		if f.state == unmapped {
			continue
		}
		*f.field = "cookie." + f.cookie
		switch f.state {
		case granted:
			cookies[f.cookie] = "yes"
		case denied:
			cookies[f.cookie] = "opted_out"
		case unreadable:
			cookies[f.cookie] = "perhaps"
		}
	}
	m, err := CompileWith("purchase", r, Options{ClickTokenCookie: "amzn_aref"})
	if err != nil {
		t.Fatal(err)
	}
	return m, consentRequest("", cookies)
}

// TestAdStorageThatDoesNotGrantWithholdsTheClickTokenWhateverElseIsMapped
// walks the whole decision table: when amazon_consent_ad_storage is
// mapped, only a grant sends the click token, whether or not user data is
// mapped (issue 23: with ad storage alone, DENIED was ignored); an
// unreadable value of either field sends no event at all (fails closed).
func TestAdStorageThatDoesNotGrantWithholdsTheClickTokenWhateverElseIsMapped(t *testing.T) {
	states := []string{unmapped, granted, denied, noValue, unreadable}
	for _, user := range states {
		for _, storage := range states {
			m, req := consentCase(t, user, storage)
			e, err := m.Evaluate(req)
			name := "user data " + user + ", ad storage " + storage
			if user == unreadable || storage == unreadable {
				if err == nil {
					t.Errorf("%s: an event was built", name)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			wantToken := storage == unmapped || storage == granted
			if got := e.ArefMeasurementTokens != ""; got != wantToken {
				t.Errorf("%s: click token sent %v, want %v", name, got, wantToken)
			}
		}
	}
}

// TestAmazonConsentIsSentOnlyWithUserDataAsTheSchemaRequires: Amazon's
// schema requires amznUserData in amazonConsent and leaves amznAdStorage
// optional, so ad storage alone sends no amazonConsent, and user data
// alone sends it without amznAdStorage.
func TestAmazonConsentIsSentOnlyWithUserDataAsTheSchemaRequires(t *testing.T) {
	raw, err := os.ReadFile("../amazon/schema/events-openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{"AmazonConsentFormat", "CreateAmazonConsentFormat"} {
		if got := gjson.GetBytes(raw, "components.schemas."+schema+".required|@ugly").String(); got != `["amznUserData"]` {
			t.Fatalf("Amazon's %s requires %s: the rule below no longer follows the schema", schema, got)
		}
	}
	want := map[[2]string]string{ // user data, ad storage → amazonConsent as JSON, "" for none
		{unmapped, granted}: "", {unmapped, denied}: "", {unmapped, noValue}: "",
		{noValue, granted}: "", {noValue, denied}: "",
		{granted, unmapped}: `{"amznUserData":"GRANTED"}`,
		{denied, unmapped}:  `{"amznUserData":"DENIED"}`,
		{granted, noValue}:  `{"amznUserData":"GRANTED"}`,
		{granted, granted}:  `{"amznUserData":"GRANTED","amznAdStorage":"GRANTED"}`,
		{granted, denied}:   `{"amznUserData":"GRANTED","amznAdStorage":"DENIED"}`,
		{denied, denied}:    `{"amznUserData":"DENIED","amznAdStorage":"DENIED"}`,
	}
	for states, wantJSON := range want {
		m, req := consentCase(t, states[0], states[1])
		e, err := m.Evaluate(req)
		if err != nil {
			t.Fatalf("%v: %v", states, err)
		}
		got := ""
		if e.Consent != nil && e.Consent.AmazonConsent != nil {
			b, _ := json.Marshal(e.Consent.AmazonConsent)
			got = string(b)
		}
		if got != wantJSON {
			t.Errorf("user data %s, ad storage %s: amazonConsent %s, want %q", states[0], states[1], got, wantJSON)
		}
		if e.Consent == nil || e.Consent.Geo == nil {
			t.Errorf("%v: the geo consent is gone", states)
		}
	}
}

// TestADeniedAdStorageWithholdsAMappedClickTokenToo: an
// aref_measurement_tokens line is withheld like the click_token cookie.
func TestADeniedAdStorageWithholdsAMappedClickTokenToo(t *testing.T) {
	r := validRule()
	r.ArefMeasurementTokens, r.ConsentAdStorage = "header.X-Aref", "header.X-Ads"
	m := mustCompile(t, r)
	for value, want := range map[string]string{"granted": "AbCdEf1234.1764072000000", "denied": "", "": ""} {
		req := consentRequest("", nil)
		req.HTTP.Header.Set("X-Aref", "AbCdEf1234.1764072000000")
		if value != "" {
			req.HTTP.Header.Set("X-Ads", value)
		}
		if e, err := m.Evaluate(req); err != nil || e.ArefMeasurementTokens != want {
			t.Errorf("ad storage %q: click token %q (%v), want %q", value, e.ArefMeasurementTokens, err, want)
		}
	}
}

func TestTheRuleTellsWhatItsAdStorageConsentIs(t *testing.T) {
	r := validRule()
	if m := mustCompile(t, r); m.MapsAdStorageWithoutUserData() {
		t.Error("nothing is mapped")
	} else if _, ok, _ := m.AdStorage(); ok {
		t.Error("AdStorage without a mapping")
	}
	r.ConsentAdStorage = "cookie.cmp_ads"
	m := mustCompile(t, r)
	if !m.MapsAdStorageWithoutUserData() {
		t.Error("ad storage without user data is not reported")
	}
	v, ok, onLanding := m.AdStorage()
	if !ok || !onLanding {
		t.Fatalf("AdStorage: %v %v", ok, onLanding)
	}
	if s, _ := v.Lookup(consentRequest("", map[string]string{"cmp_ads": "deny"})); ConsentGranted(s) {
		t.Errorf("the value read %q", s)
	}
	r.ConsentUserData = "cookie.cmp_ads"
	if mustCompile(t, r).MapsAdStorageWithoutUserData() {
		t.Error("both are mapped")
	}
	r.ConsentAdStorage = "body.consent.ads"
	if v, ok, onLanding := mustCompile(t, r).AdStorage(); !ok || onLanding || v.IsSet() {
		t.Errorf("a body path: %v %v %v, want mapped, not on a landing, no Value", v.IsSet(), ok, onLanding)
	}
}
