package mapping

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
