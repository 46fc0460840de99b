package caddymodule

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// option adds an option with a block to the amazon_capi block.
func (c *capiBlock) option(l line) *capiBlock {
	c.options = append(c.options, l)
	return c
}

// clickTokenShop is a shop whose block keeps click tokens (ad storage
// consent read from the consent_ads cookie) and sends a purchase for
// POST /checkout.
func clickTokenShop(t *testing.T, site, sb int) (account string) {
	account = fmt.Sprintf("ACCT-%d", site)
	module := amazonCAPI().sandboxAt(sb).account(account).spool(t.TempDir()).flushInterval(20e6).
		option(block("click_token", "ad_storage cookie.consent_ads")).
		event(purchase().match("method POST", "path /checkout").dedupeID("form.order").key("EMAIL", "form.email").
			set("amazon_consent_user_data", "cookie.consent_ads").set("amazon_consent_ad_storage", "cookie.consent_ads"))
	loadCaddy(t, fixture().site(site, module, respondOK).sandboxSite(sb, account).String(), "caddyfile")
	return account
}

var clickCookie = regexp.MustCompile(`^amzn_aref=AbCdEf1234\.\d{13}; Path=/; Max-Age=1209600; HttpOnly; SameSite=Lax$`)

func TestALandingFromAnAmazonAdKeepsItsClickTokenForTheConversion(t *testing.T) {
	site, sb := freePort(), freePort()
	account := clickTokenShop(t, site, sb)
	get := func(query, consent string) *http.Response {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/landing%s", site, query), nil)
		if consent != "" {
			req.AddCookie(&http.Cookie{Name: "consent_ads", Value: consent})
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	landing := get("?utm=x&aref=AbCdEf1234", "granted")
	set := landing.Header.Values("Set-Cookie")
	if len(set) != 1 || !clickCookie.MatchString(set[0]) {
		t.Fatalf("Set-Cookie %q", set)
	}
	for name, resp := range map[string]*http.Response{
		"no aref":        get("?utm=x", "granted"),
		"malformed aref": get("?aref=short", "granted"),
		"denied":         get("?aref=AbCdEf1234", "denied"),
		"no consent":     get("?aref=AbCdEf1234", ""),
	} {
		if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("%s: Set-Cookie %q, want none", name, got)
		}
	}

	checkout := func(order, consent string) {
		token := strings.TrimPrefix(strings.Split(set[0], ";")[0], "amzn_aref=")
		req := newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site),
			[]byte("order="+order+"&email=jane%40example.com"), false, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		req.AddCookie(&http.Cookie{Name: "amzn_aref", Value: token})
		req.AddCookie(&http.Cookie{Name: "consent_ads", Value: consent})
		doRequest(t, req)
	}
	checkout("ORD-CLICK", "granted")
	checkout("ORD-NOADS", "denied")
	received := awaitReceived(t, sandboxServer(t, account), 2)
	tokens := map[string]string{}
	for _, r := range received {
		tokens[r.EventID] = gjson.GetBytes(r.Event, "arefMeasurementTokens").String()
	}
	if !regexp.MustCompile(`^AbCdEf1234\.\d{13}$`).MatchString(tokens["ORD-CLICK"]) {
		t.Errorf("the conversion carries click tokens %q", tokens["ORD-CLICK"])
	}
	if tokens["ORD-NOADS"] != "" {
		t.Errorf("a conversion whose ad storage is denied carries click tokens %q", tokens["ORD-NOADS"])
	}
}

func TestTheClickTokenOptionIsCheckedAtAdapt(t *testing.T) {
	base := func(opt string) string {
		return inSite("\tamazon_capi {\n\t\taccount_id A\n\t\tdry_run\n" + opt + "\t\tevent s {\n\t\t\ttype SIGN_UP\n\t\t\tcountry US\n\t\t\tmatch_key FIP request.remote_ip\n\t\t}\n\t}")
	}
	if err := adapt(base("\t\tclick_token my_aref {\n\t\t\tmax_age 7d\n\t\t\tad_storage header.X-Ads\n\t\t\tignore_gpc\n\t\t}\n")); err != nil {
		t.Errorf("a valid click_token: %v", err)
	}
	for opt, want := range map[string]string{
		"\t\tclick_token a b\n":                               "wrong argument count",
		"\t\tclick_token {\n\t\t\tad_storage body.x\n\t\t}\n": "reads the body",
		"\t\tclick_token {\n\t\t\tmaxage 1d\n\t\t}\n":         "unknown click_token option",
		"\t\tclick_token bad;name\n":                          "not a cookie name",
		"\t\tclick_token {\n\t\t\tignore_gpc yes\n\t\t}\n":    "takes no value",
	} {
		if err := adapt(base(opt)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", opt, err, want)
		}
	}
}

// land sends a landing request from an Amazon ad (query) to the site on
// port, with cookies and headers, and returns its Set-Cookie headers.
func land(t *testing.T, port int, query string, cookies, header map[string]string) []string {
	t.Helper()
	req, err := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/landing%s", port, query), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	for name, value := range header {
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Values("Set-Cookie")
}

// TestAdStorageMappedAloneWithholdsTheClickCookieAndTokenAndWarns: an
// event maps amazon_consent_ad_storage and no user data, and click_token
// has no ad_storage of its own (issue 23). A landing whose ad storage is
// denied or unknown stores no cookie; a conversion whose ad storage is
// denied sends no click token; no event carries amazonConsent (Amazon
// requires amznUserData in it), and loading the config says so.
func TestAdStorageMappedAloneWithholdsTheClickCookieAndTokenAndWarns(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "caddy.log")
	site, sb := freePort(), freePort()
	account := fmt.Sprintf("ADS-%d", site)
	module := amazonCAPI().sandboxAt(sb).account(account).spool(t.TempDir()).flushInterval(20e6).
		option(line{words: "click_token"}).
		event(purchase().match("method POST", "path /checkout").dedupeID("form.order").key("EMAIL", "form.email").
			set("amazon_consent_ad_storage", "cookie.consent_ads"))
	loadCaddy(t, fixture().logTo(logFile).site(site, module, respondOK).sandboxSite(sb, account).String(), "caddyfile")

	for consent, wantCookie := range map[string]bool{"granted": true, "denied": false, "perhaps": false, "": false} {
		cookies := map[string]string{}
		if consent != "" {
			cookies["consent_ads"] = consent
		}
		set := land(t, site, "?aref=AbCdEf1234", cookies, nil)
		if got := len(set) == 1 && clickCookie.MatchString(set[0]); got != wantCookie || len(set) > 1 {
			t.Errorf("a landing whose ad storage is %q: Set-Cookie %q, want a click cookie: %v", consent, set, wantCookie)
		}
	}

	checkout := func(order, consent string) {
		req := newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site),
			[]byte("order="+order+"&email=jane%40example.com"), false, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		req.AddCookie(&http.Cookie{Name: "amzn_aref", Value: fmt.Sprintf("AbCdEf1234.%d", time.Now().UnixMilli())})
		req.AddCookie(&http.Cookie{Name: "consent_ads", Value: consent})
		doRequest(t, req)
	}
	checkout("ORD-GRANTED", "granted")
	checkout("ORD-DENIED", "denied")
	for _, r := range awaitReceived(t, sandboxServer(t, account), 2) {
		token := gjson.GetBytes(r.Event, "arefMeasurementTokens").String()
		if (token != "") != (r.EventID == "ORD-GRANTED") {
			t.Errorf("%s carries click tokens %q", r.EventID, token)
		}
		if c := gjson.GetBytes(r.Event, "consent.amazonConsent"); c.Exists() {
			t.Errorf("%s carries amazonConsent %s without user data", r.EventID, c.Raw)
		}
	}

	raw, _ := os.ReadFile(logFile)
	if log := string(raw); strings.Count(log, "amazon_consent_ad_storage is mapped without amazon_consent_user_data") != 1 || !strings.Contains(log, `"event":"purchase"`) {
		t.Errorf("no load-time warning that the event sends no amazonConsent:\n%s", log)
	}
}

// TestCaddyValidateWarnsAboutAdStorageWithoutUserData: `caddy validate`
// provisions the module, so it shows the same warnings as a start,
// including the one for an ad storage a landing cannot read.
func TestCaddyValidateWarnsAboutAdStorageWithoutUserData(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "validate.log")
	module := amazonCAPI().dryRun().account("VALIDATE").option(line{words: "click_token"}).event(
		signup().match("path /signup").set("amazon_consent_ad_storage", "cookie.consent_ads"),
		event("lead", "LEAD").match("path /lead").set("amazon_consent_user_data", "body.consent.data").set("amazon_consent_ad_storage", "body.consent.ads"))
	t.Cleanup(func() { _ = validate(t, "{\n\tadmin off\n}\n") }) // the default log back on stderr
	if err := validate(t, fixture().logTo(logFile).site(freePort(), module, respondOK).String()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	raw, _ := os.ReadFile(logFile)
	log := string(raw)
	for _, want := range []string{
		`"msg":"amazon_consent_ad_storage is mapped without amazon_consent_user_data`, `map amazon_consent_user_data too`, `"event":"signup"`,
		`"msg":"click_token has no ad_storage`, `give click_token an ad_storage that a landing request carries`, `"event":"lead"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("validate's log lacks %q:\n%s", want, log)
		}
	}
	if n := strings.Count(log, "amazon_consent_ad_storage is mapped without"); n != 1 {
		t.Errorf("%d warnings about ad storage without user data, want 1 (signup's)", n)
	}
}

// TestALandingWithGlobalPrivacyControlStoresNoClickCookie: Sec-GPC: 1 opts
// out of sale and sharing, so a landing that sends it stores no click
// token, even with ad storage granted; click_token's ignore_gpc (as an
// event's) hands GPC to the consent manager and stores it.
func TestALandingWithGlobalPrivacyControlStoresNoClickCookie(t *testing.T) {
	honours, ignores := freePort(), freePort()
	shop := func(clickToken line) *capiBlock {
		return amazonCAPI().dryRun().account(fmt.Sprintf("GPC-%d", len(clickToken.body))).option(clickToken).
			event(signup().match("path /signup"))
	}
	cfg := fixture().
		site(honours, shop(block("click_token", "ad_storage cookie.consent_ads")), respondOK).
		site(ignores, shop(block("click_token", "ad_storage cookie.consent_ads", "ignore_gpc")), respondOK).
		String()
	loadCaddy(t, cfg, "caddyfile")
	consent := map[string]string{"consent_ads": "granted"}
	gpc := map[string]string{"Sec-GPC": "1"}
	for name, c := range map[string]struct {
		port   int
		header map[string]string
		want   bool
	}{
		"GPC":                 {honours, gpc, false},
		"no GPC":              {honours, nil, true},
		"GPC 0":               {honours, map[string]string{"Sec-GPC": "0"}, true},
		"GPC with ignore_gpc": {ignores, gpc, true},
	} {
		set := land(t, c.port, "?aref=AbCdEf1234", consent, c.header)
		if got := len(set) == 1 && clickCookie.MatchString(set[0]); got != c.want {
			t.Errorf("%s: Set-Cookie %q, want a click cookie: %v", name, set, c.want)
		}
	}
}

// TestALandingCannotReadAnAdStorageMappedFromTheBodyAndStoresNoCookie:
// click_token without ad_storage reads the events' ad storage on a
// landing; one an event reads from the body is never there, so no cookie
// is stored (and provision warns), while one from a cookie is read.
func TestALandingCannotReadAnAdStorageMappedFromTheBodyAndStoresNoCookie(t *testing.T) {
	handler := func(adStorage ...string) (*Handler, *observer.ObservedLogs) {
		logs, logger := observedLogger()
		h := &Handler{ClickToken: &ClickToken{}, logger: logger}
		if err := h.ClickToken.provision(); err != nil {
			t.Fatal(err)
		}
		for i, value := range adStorage {
			ev := &Event{Name: fmt.Sprintf("e%d", i), Rule: mapping.Rule{Type: "SIGN_UP", Country: "US",
				MatchKeys: []mapping.MatchKeyRule{{Type: "FIP", Value: "request.remote_ip"}}, ConsentUserData: value, ConsentAdStorage: value}}
			m, err := mapping.Compile(ev.Name, ev.Rule)
			if err != nil {
				t.Fatal(err)
			}
			ev.mapping = m
			h.Events = append(h.Events, ev)
		}
		h.settleConsent()
		return h, logs
	}
	stores := func(h *Handler) bool {
		r := httptest.NewRequest("GET", "/landing?aref=AbCdEf1234", nil)
		r.AddCookie(&http.Cookie{Name: "consent_ads", Value: "yes"})
		w := httptest.NewRecorder()
		h.ClickToken.remember(w, r)
		return len(w.Result().Cookies()) == 1
	}
	if h, _ := handler("cookie.consent_ads"); !stores(h) {
		t.Error("a granted ad storage from a cookie stored no cookie")
	}
	h, logs := handler("cookie.consent_ads", "body.consent.ads")
	if stores(h) {
		t.Error("a cookie was stored though an event's ad storage cannot be read on a landing")
	}
	if logs.FilterMessage(adStorageNotOnLandingWarning).FilterField(zap.String("event", "e1")).Len() != 1 || logs.Len() != 1 {
		t.Errorf("warnings %v, want one for e1", logs.All())
	}
}
