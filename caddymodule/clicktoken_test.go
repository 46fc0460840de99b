package caddymodule

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
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
	if err := adapt(base("\t\tclick_token my_aref {\n\t\t\tmax_age 7d\n\t\t\tad_storage header.X-Ads\n\t\t}\n")); err != nil {
		t.Errorf("a valid click_token: %v", err)
	}
	for opt, want := range map[string]string{
		"\t\tclick_token a b\n":                               "wrong argument count",
		"\t\tclick_token {\n\t\t\tad_storage body.x\n\t\t}\n": "reads the body",
		"\t\tclick_token {\n\t\t\tmaxage 1d\n\t\t}\n":         "unknown click_token option",
		"\t\tclick_token bad;name\n":                          "not a cookie name",
	} {
		if err := adapt(base(opt)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", opt, err, want)
		}
	}
}
