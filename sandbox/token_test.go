package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func grantRequest(form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/auth/o2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func goodGrant() url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"refresh"}, "client_id": {"cid"}, "client_secret": {"secret"}}
}

func TestTokenGrantIsChecked(t *testing.T) {
	cases := []struct {
		name   string
		change func(url.Values)
		status int
		err    string
	}{
		{"wrong grant type", func(f url.Values) { f.Set("grant_type", "client_credentials") }, 400, "unsupported_grant_type"},
		{"no grant type", func(f url.Values) { f.Del("grant_type") }, 400, "unsupported_grant_type"},
		{"wrong secret", func(f url.Values) { f.Set("client_secret", "nope") }, 401, "invalid_client"},
		{"no secret", func(f url.Values) { f.Del("client_secret") }, 401, "invalid_client"},
		{"wrong client", func(f url.Values) { f.Set("client_id", "other") }, 401, "invalid_client"},
		{"wrong refresh token", func(f url.Values) { f.Set("refresh_token", "Atzr|other") }, 400, "invalid_grant"},
		{"no refresh token", func(f url.Values) { f.Del("refresh_token") }, 400, "invalid_grant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(Config{})
			form := goodGrant()
			c.change(form)
			got := serve(t, s, grantRequest(form))
			if got.status != c.status || got.body["error"] != c.err || got.body["error_description"] == "" || got.body["access_token"] != nil {
				t.Errorf("%d %s, want %d %s", got.status, got.raw, c.status, c.err)
			}
			if s.Stats().TokenGrants != 0 {
				t.Errorf("a refused grant was counted")
			}
		})
	}
	got := serve(t, newSandbox(Config{}), httptest.NewRequest(http.MethodGet, "/auth/o2/token?"+goodGrant().Encode(), nil))
	if got.status != 405 || got.body["error"] != "invalid_request" {
		t.Errorf("GET: %d %s", got.status, got.raw)
	}
	r := httptest.NewRequest(http.MethodPost, "/auth/o2/token?"+goodGrant().Encode(), nil)
	if got := serve(t, newSandbox(Config{}), r); got.status == 200 {
		t.Errorf("credentials in the query string were accepted")
	}
}

func TestIssuedTokensWorkUntilTheyExpire(t *testing.T) {
	c := &clock{t: now}
	s := newSandbox(Config{Now: c.now, TokenLifetime: 30 * time.Minute})
	got := serve(t, s, grantRequest(goodGrant()))
	token, _ := got.body["access_token"].(string)
	if got.status != 200 || !strings.HasPrefix(token, "Atza|sandbox-") || len(token) <= len("Atza|sandbox-") ||
		got.body["token_type"] != "bearer" || got.body["expires_in"] != 1800.0 || got.body["refresh_token"] != "refresh" {
		t.Fatalf("grant: %d %s", got.status, got.raw)
	}
	bearer := map[string]string{"Authorization": "Bearer " + token}
	for _, req := range []call{v2(v2Event("a")), v1(v1Event("a"))} {
		req.headers = bearer
		if got := req.do(t, s); got.status != 207 {
			t.Errorf("%s with the issued token: %d %s", req.path, got.status, got.raw)
		}
	}
	c.t = c.t.Add(30*time.Minute - time.Second)
	req := v2(v2Event("b"))
	req.headers = bearer
	if got := req.do(t, s); got.status != 207 {
		t.Errorf("just before expiry: %d", got.status)
	}
	c.t = c.t.Add(time.Second)
	if got := req.do(t, s); got.status != 401 || got.body["code"] != "UNAUTHORIZED" {
		t.Errorf("expired token: %d %s", got.status, got.raw)
	}
	req.headers = nil // the static token never expires
	if got := req.do(t, s); got.status != 207 {
		t.Errorf("static token: %d", got.status)
	}
	second := serve(t, s, grantRequest(goodGrant()))
	if second.body["access_token"] == token || s.Stats().TokenGrants != 2 {
		t.Errorf("second grant %s, grants %d", second.raw, s.Stats().TokenGrants)
	}
	s.mu.Lock()
	_, kept := s.tokens[token]
	n := len(s.tokens)
	s.mu.Unlock()
	if kept || n != 1 {
		t.Errorf("expired token not pruned: %d tokens", n)
	}
}

func TestUnconfiguredGrantAcceptsAnyCredentials(t *testing.T) {
	s := New(Config{})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}, "client_id": {"c"}, "client_secret": {"s"}}
	got := serve(t, s, grantRequest(form))
	if got.status != 200 || got.body["expires_in"] != 3600.0 {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	req := v2(v2Event("a"))
	req.headers = map[string]string{"Authorization": "Bearer " + got.body["access_token"].(string)}
	if got := req.do(t, s); got.status != 207 {
		t.Errorf("%d %s", got.status, got.raw)
	}
}
