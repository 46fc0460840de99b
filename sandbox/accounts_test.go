package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// sampleQuery is the body Amazon's get_advertiser_accounts.py sends.
var sampleQuery = map[string]any{"isGlobalAccountFilter": map[string]any{"include": []any{true}}, "maxResults": 100}

// accountsCall is the sample's call: bearer token, the old client header
// and a JSON body.
func accountsCall(headers map[string]string, body any) call {
	h := map[string]string{"Amazon-Ads-AccountId": "", "Amazon-Ads-ClientId": "", "Amazon-Advertising-API-ClientId": "cid"}
	for k, v := range headers {
		h[k] = v
	}
	return call{path: PathAdvertiserAccounts, body: body, headers: h}
}

// sampleDSPAdvertiserID does what Amazon's sample does with the answer:
// keep the accounts with a dspAdvertiserId and take the NA region's one.
func sampleDSPAdvertiserID(t *testing.T, raw []byte) string {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	accounts, _ := data["advertiserAccounts"].([]any)
	id := ""
	for _, a := range accounts {
		acct := a.(map[string]any)
		for _, field := range []string{"advertiserAccountId", "displayName", "currencyCode"} {
			if s, _ := acct[field].(string); s == "" {
				t.Errorf("account lacks %s: %v", field, acct)
			}
		}
		if _, ok := acct["isGlobalAccount"].(bool); !ok {
			t.Errorf("account lacks isGlobalAccount: %v", acct)
		}
		alts, _ := acct["alternateIds"].([]any)
		for _, alt := range alts {
			m := alt.(map[string]any)
			if m["region"] == "NA" {
				id, _ = m["dspAdvertiserId"].(string)
			}
		}
	}
	if _, ok := data["nextToken"]; ok {
		t.Errorf("a nextToken with one account: %s", raw)
	}
	return id
}

func TestAdvertiserAccountsAnswersAmazonsSample(t *testing.T) {
	s := New(Config{AccountID: "1234567890", ClientID: "cid", AccessTokens: []string{"static"}})
	got := accountsCall(nil, sampleQuery).do(t, s)
	if got.status != 200 {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	if id := sampleDSPAdvertiserID(t, got.raw); id != "1234567890" {
		t.Errorf("dspAdvertiserId %q, want the configured account; %s", id, got.raw)
	}
	var typed AdvertiserAccounts
	if err := json.Unmarshal(got.raw, &typed); err != nil || len(typed.AdvertiserAccounts) != 1 ||
		typed.AdvertiserAccounts[0].AlternateIDs[0].DSPAdvertiserID != "1234567890" || !typed.AdvertiserAccounts[0].IsGlobalAccount {
		t.Errorf("%v %+v", err, typed)
	}
	// The ID it gives is the one the events endpoint takes.
	req := v2(v2Event("a"))
	req.headers = map[string]string{"Amazon-Ads-AccountId": typed.AdvertiserAccounts[0].AlternateIDs[0].DSPAdvertiserID}
	if ev := req.do(t, s); ev.status != 207 {
		t.Errorf("events with the listed account: %d %s", ev.status, ev.raw)
	}
	if st := s.Stats(); st.Requests != 1 {
		t.Errorf("the accounts query counted as an events call: %+v", st)
	}
}

func TestAdvertiserAccountsListsADemoAccountWhenNoneIsConfigured(t *testing.T) {
	s := New(Config{AccessTokens: []string{"static"}})
	got := accountsCall(nil, sampleQuery).do(t, s)
	if got.status != 200 || sampleDSPAdvertiserID(t, got.raw) != DemoDSPAdvertiserID {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	for _, r := range DemoDSPAdvertiserID {
		if r < '0' || r > '9' {
			t.Fatalf("demo dspAdvertiserId %q is not numeric", DemoDSPAdvertiserID)
		}
	}
}

func TestAdvertiserAccountsFollowsTheRegion(t *testing.T) {
	s := New(Config{AccessTokens: []string{"static"}, Region: "eu"})
	got := accountsCall(nil, sampleQuery).do(t, s)
	var typed AdvertiserAccounts
	_ = json.Unmarshal(got.raw, &typed)
	if len(typed.AdvertiserAccounts) != 1 || typed.AdvertiserAccounts[0].CurrencyCode != "GBP" ||
		typed.AdvertiserAccounts[0].AlternateIDs[0].Region != "EU" || typed.AdvertiserAccounts[0].AlternateIDs[0].CountryCode != "GB" {
		t.Errorf("%s", got.raw)
	}
}

func TestAdvertiserAccountsWorksWithAnIssuedToken(t *testing.T) {
	s := newSandbox(Config{})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"refresh"}, "client_id": {"cid"}, "client_secret": {"secret"}}
	r := httptest.NewRequest(http.MethodPost, "/auth/o2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tok := serve(t, s, r)
	access, _ := tok.body["access_token"].(string)
	if tok.status != 200 || access == "" {
		t.Fatalf("token: %d %s", tok.status, tok.raw)
	}
	got := accountsCall(map[string]string{"Authorization": "Bearer " + access}, sampleQuery).do(t, s)
	if got.status != 200 || sampleDSPAdvertiserID(t, got.raw) != "ACCT" {
		t.Errorf("%d %s", got.status, got.raw)
	}
}

func TestAdvertiserAccountsChecksTheCall(t *testing.T) {
	cases := []struct {
		name    string
		method  string
		headers map[string]string
		body    any
		status  int
		code    string
	}{
		{"no token", "", map[string]string{"Authorization": ""}, sampleQuery, 401, "UNAUTHORIZED"},
		{"unknown token", "", map[string]string{"Authorization": "Bearer nope"}, sampleQuery, 401, "UNAUTHORIZED"},
		{"no client", "", map[string]string{"Amazon-Advertising-API-ClientId": ""}, sampleQuery, 400, "BAD_REQUEST"},
		{"wrong client", "", map[string]string{"Amazon-Advertising-API-ClientId": "x"}, sampleQuery, 403, "FORBIDDEN"},
		{"new client header", "", map[string]string{"Amazon-Advertising-API-ClientId": "", "Amazon-Ads-ClientId": "cid"}, sampleQuery, 200, ""},
		{"wrong new client header", "", map[string]string{"Amazon-Advertising-API-ClientId": "", "Amazon-Ads-ClientId": "x"}, sampleQuery, 403, "FORBIDDEN"},
		{"no content type", "", map[string]string{"Content-Type": ""}, sampleQuery, 400, "BAD_REQUEST"},
		{"GET", http.MethodGet, nil, nil, 405, "BAD_REQUEST"},
		{"not JSON", "", nil, []byte("{"), 400, "BAD_REQUEST"},
		{"array body", "", nil, []byte("[]"), 400, "BAD_REQUEST"},
		{"filter of a string", "", nil, map[string]any{"isGlobalAccountFilter": "true"}, 400, "BAD_REQUEST"},
		{"zero results", "", nil, map[string]any{"maxResults": 0}, 400, "BAD_REQUEST"},
		{"unknown next token", "", nil, map[string]any{"maxResults": 100, "nextToken": "abc"}, 400, "BAD_REQUEST"},
		{"empty query", "", nil, map[string]any{}, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := accountsCall(c.headers, c.body)
			req.method = c.method
			got := req.do(t, newSandbox(Config{}))
			if got.status != c.status || c.code != "" && (got.body["code"] != c.code || got.body["message"] == "") {
				t.Errorf("%d %s, want %d %s", got.status, got.raw, c.status, c.code)
			}
			if c.status == 200 && sampleDSPAdvertiserID(t, got.raw) != "ACCT" {
				t.Errorf("%s", got.raw)
			}
			if c.status == 405 && got.header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow %q", got.header.Get("Allow"))
			}
		})
	}
}

func TestAdvertiserAccountsFilter(t *testing.T) {
	s := newSandbox(Config{})
	got := accountsCall(nil, map[string]any{"isGlobalAccountFilter": map[string]any{"include": []any{false}}}).do(t, s)
	if got.status != 200 || string(got.raw) != "{\"advertiserAccounts\":[]}\n" {
		t.Errorf("%d %s", got.status, got.raw)
	}
}
