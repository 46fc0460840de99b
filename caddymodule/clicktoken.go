package caddymodule

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// ClickToken captures Amazon's click token at the edge: a request that
// lands from an Amazon ad carries `aref` in its query; its token is kept,
// with the click's time, in a first-party cookie, and every event of the
// block then sends the cookie's pairs as arefMeasurementTokens (unless the
// event maps aref_measurement_tokens itself). Nothing else in the answer
// changes, and no JavaScript is needed.
type ClickToken struct {
	// Cookie is the cookie's name. Default: amzn_aref.
	Cookie string `json:"cookie,omitempty"`
	// MaxAge is how long the cookie lives. Default: 14 days, the click
	// lookback Amazon Ads attribution commonly uses (Amazon's Events API
	// documents no window for aref; set yours).
	MaxAge caddy.Duration `json:"max_age,omitempty"`
	// AdStorage, when set, is read on the landing request (a query.,
	// header. or cookie. path, or a placeholder): unless it grants ad
	// storage (yes, granted, opted_in, accept, …; see the README's consent
	// table), no cookie is set. Events whose amazon_consent_ad_storage is
	// DENIED never send click tokens.
	AdStorage string `json:"ad_storage,omitempty"`

	adStorage mapping.Value
}

// Defaults of click_token.
const (
	defaultClickTokenCookie = "amzn_aref"
	defaultClickTokenMaxAge = 14 * 24 * time.Hour
)

func (c *ClickToken) provision() error {
	if c.Cookie == "" {
		c.Cookie = defaultClickTokenCookie
	}
	if c.MaxAge <= 0 {
		c.MaxAge = caddy.Duration(defaultClickTokenMaxAge)
	}
	if (&http.Cookie{Name: c.Cookie, Value: "x"}).Valid() != nil {
		return fmt.Errorf("click_token: %q is not a cookie name", c.Cookie)
	}
	if c.AdStorage != "" {
		v, err := mapping.CompileValue(c.AdStorage)
		if err != nil {
			return fmt.Errorf("click_token ad_storage: %w", err)
		}
		c.adStorage = v
	}
	return nil
}

// lands reports whether a request may carry a click token: a check that
// costs no allocation, so requests without one pay nothing more.
func (c *ClickToken) lands(r *http.Request) bool {
	if c == nil {
		return false
	}
	q := r.URL.RawQuery
	return strings.HasPrefix(q, "aref=") || strings.Contains(q, "&aref=")
}

// remember adds the request's click tokens to the cookie of the answer.
func (c *ClickToken) remember(w http.ResponseWriter, r *http.Request) {
	arefs := r.URL.Query()["aref"]
	if len(arefs) == 0 {
		return
	}
	if !c.adStorageGranted(r) {
		theMetrics().clickTokens.WithLabelValues("denied").Add(float64(len(arefs)))
		return
	}
	old := ""
	if ck, err := r.Cookie(c.Cookie); err == nil {
		old = ck.Value
	}
	value, added, malformed := mapping.MergeClickTokens(old, arefs, time.Now(), time.Duration(c.MaxAge))
	if malformed > 0 {
		theMetrics().clickTokens.WithLabelValues("malformed").Add(float64(malformed))
	}
	if added == 0 {
		return
	}
	theMetrics().clickTokens.WithLabelValues("stored").Add(float64(added))
	http.SetCookie(w, &http.Cookie{
		Name: c.Cookie, Value: value, Path: "/", MaxAge: int(time.Duration(c.MaxAge).Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

// adStorageGranted reads the landing request's ad-storage consent, when
// configured: only a grant lets the cookie be set.
func (c *ClickToken) adStorageGranted(r *http.Request) bool {
	if !c.adStorage.IsSet() {
		return true
	}
	view := &mapping.Request{HTTP: r}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		view.Placeholders = repl
	}
	s, ok := c.adStorage.Lookup(view)
	return ok && mapping.ConsentGranted(s)
}

// unmarshalClickToken reads `click_token [<cookie>] [{ max_age <d>; ad_storage <value> }]`.
func unmarshalClickToken(d *caddyfile.Dispenser) (*ClickToken, error) {
	c := &ClickToken{}
	if d.NextArg() {
		c.Cookie = d.Val()
	}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	seen := once{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		if err := seen.check(d, option); err != nil {
			return nil, err
		}
		var err error
		switch option {
		case "max_age":
			err = parseDuration(d, &c.MaxAge)
		case "ad_storage":
			err = parseOne(d, &c.AdStorage)
		default:
			err = d.Errf("unknown click_token option %q (max_age, ad_storage)", option)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, c.provisionCheck(d)
}

// provisionCheck checks at adapt time what provision checks at load time.
func (c *ClickToken) provisionCheck(d *caddyfile.Dispenser) error {
	probe := *c
	if err := probe.provision(); err != nil {
		return d.Err(err.Error())
	}
	return nil
}
