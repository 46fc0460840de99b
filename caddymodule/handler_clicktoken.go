package caddymodule

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/internal/caddyopts"
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
	// storage (yes, granted, opted_in, accept, …; see the consent spellings
	// in docs/configuration.md), no cookie is set. When not set, the landing reads the
	// amazon_consent_ad_storage of the block's events instead, and each
	// must grant. Events whose amazon_consent_ad_storage does not grant
	// never send click tokens.
	AdStorage string `json:"ad_storage,omitempty"`
	// IgnoreGPC lets a landing with the Global Privacy Control header
	// (Sec-GPC: 1) store the cookie. By default it does not: GPC opts out
	// of sale and sharing, and a click token is kept to share the visit
	// with Amazon. Set it, as an event's ignore_gpc, when your consent
	// manager already turns GPC into the ad-storage consent read here.
	IgnoreGPC bool `json:"ignore_gpc,omitempty"`

	adStorage mapping.Value
	// eventAdStorage, when AdStorage is not set, are the block's events'
	// amazon_consent_ad_storage values: a landing needs a grant from each.
	eventAdStorage []mapping.Value
	// neverGranted is set when an event's amazon_consent_ad_storage reads
	// the body or the answer, which a landing cannot: no cookie is set.
	neverGranted bool
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
	if !c.mayStore(r) {
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
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
}

// mayStore reports whether the landing request lets the cookie be set:
// not with Sec-GPC: 1 (unless ignore_gpc), and only with a grant of the
// ad-storage consent, when one is configured (ad_storage, else the events'
// amazon_consent_ad_storage).
func (c *ClickToken) mayStore(r *http.Request) bool {
	if !c.IgnoreGPC && r.Header.Get("Sec-GPC") == "1" {
		return false
	}
	if c.neverGranted {
		return false
	}
	if !c.adStorage.IsSet() && len(c.eventAdStorage) == 0 {
		return true
	}
	view := &mapping.Request{HTTP: r}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		view.Placeholders = repl
	}
	if c.adStorage.IsSet() {
		return granted(c.adStorage, view)
	}
	for _, v := range c.eventAdStorage {
		if !granted(v, view) {
			return false
		}
	}
	return true
}

func granted(v mapping.Value, r *mapping.Request) bool {
	s, ok := v.Lookup(r)
	return ok && mapping.ConsentGranted(s)
}

// settleConsent runs at provision, once the events are compiled: it warns
// about an event whose ad-storage consent cannot be sent as amazonConsent,
// and gives a click_token without ad_storage the events' ad-storage
// consent to read on landings.
func (h *Handler) settleConsent() {
	c := h.ClickToken
	if c != nil {
		c.eventAdStorage, c.neverGranted = nil, false
	}
	for _, ev := range h.Events {
		if ev.mapping.MapsAdStorageWithoutUserData() {
			h.logger.Warn(adStorageAloneWarning, zap.String("event", ev.Name))
		}
		if c == nil || c.adStorage.IsSet() {
			continue
		}
		v, ok, onLanding := ev.mapping.AdStorage()
		switch {
		case ok && onLanding:
			c.eventAdStorage = append(c.eventAdStorage, v)
		case ok:
			c.neverGranted = true
			h.logger.Warn(adStorageNotOnLandingWarning, zap.String("event", ev.Name))
		}
	}
}

// Warnings about ad-storage consent, logged at provision (and so by
// `caddy validate`).
const (
	adStorageAloneWarning        = "amazon_consent_ad_storage is mapped without amazon_consent_user_data: Amazon's amazonConsent requires amznUserData, so this event sends no amazonConsent (ad storage still withholds its click tokens unless it grants); map amazon_consent_user_data too, often to the same consent cookie, to send Amazon's consent flags"
	adStorageNotOnLandingWarning = "click_token has no ad_storage, so landings read the events' amazon_consent_ad_storage, but this event's reads the request body or the response, which a landing does not have: no click cookie is stored; give click_token an ad_storage that a landing request carries (ad_storage cookie.<your consent cookie>)"
)

// unmarshalClickToken reads `click_token [<cookie>] [{ max_age <d>; ad_storage <value>; ignore_gpc }]`.
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
			err = caddyopts.Duration(d, &c.MaxAge)
		case "ad_storage":
			err = caddyopts.One(d, &c.AdStorage)
		case "ignore_gpc":
			err = parseFlag(d, &c.IgnoreGPC)
		default:
			err = d.Errf("unknown click_token option %q (max_age, ad_storage, ignore_gpc)", option)
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
