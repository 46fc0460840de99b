package amazon

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// TokenConfig says how to get access tokens: either the LWA refresh-token
// grant (ClientID, ClientSecret, RefreshToken, TokenURL) or a static AccessToken.
type TokenConfig struct {
	// ClientID is the LWA client ID.
	ClientID string
	// ClientSecret is the LWA client secret.
	ClientSecret string
	// RefreshToken is the LWA refresh token.
	RefreshToken string
	// AccessToken, when set, is used as is and never refreshed.
	AccessToken string
	// TokenURL is the LWA token endpoint.
	TokenURL string
	// HTTP is the client for token calls; it must have a timeout.
	HTTP *http.Client
	// EarlyRefresh is how long before expiry a token is renewed; default 5 minutes.
	EarlyRefresh time.Duration
	// OnRefresh, when set, is called after each refresh-token grant with
	// its error (nil on success).
	OnRefresh func(err error)
}

// NewTokenSource returns a cached token source for cfg. It does no network
// I/O: the first token is fetched on the first call to Token.
func NewTokenSource(cfg TokenConfig) (oauth2.TokenSource, error) {
	if cfg.AccessToken != "" {
		return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.AccessToken, TokenType: "Bearer"}), nil
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.RefreshToken == "" {
		return nil, errors.New("set access_token, or all of client_id, client_secret and refresh_token")
	}
	if cfg.TokenURL == "" {
		return nil, errors.New("no token_url")
	}
	oc := &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	ctx := context.Background()
	if cfg.HTTP != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, cfg.HTTP)
	}
	early := cfg.EarlyRefresh
	if early <= 0 {
		early = 5 * time.Minute
	}
	return &tokenCache{source: &refreshGrant{config: oc, ctx: ctx, refreshToken: cfg.RefreshToken, onRefresh: cfg.OnRefresh}, early: early}, nil
}

// Invalidator is a token source that can be told its token was refused, so
// the next Token call fetches a new one.
type Invalidator interface {
	Invalidate()
}

// tokenCache keeps a token until EarlyRefresh before it expires, or until
// Amazon refuses it.
type tokenCache struct {
	mu     sync.Mutex
	source oauth2.TokenSource
	token  *oauth2.Token
	early  time.Duration
}

// Token returns the cached token, or a new one when it is about to expire.
func (c *tokenCache) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != nil && (c.token.Expiry.IsZero() || time.Until(c.token.Expiry) > c.early) {
		return c.token, nil
	}
	tok, err := c.source.Token()
	if err != nil {
		return nil, err
	}
	c.token = tok
	return tok, nil
}

// Expiry is when the cached token expires; zero when there is none.
func (c *tokenCache) Expiry() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == nil {
		return time.Time{}
	}
	return c.token.Expiry
}

// Invalidate drops the cached token.
func (c *tokenCache) Invalidate() {
	c.mu.Lock()
	c.token = nil
	c.mu.Unlock()
}

// refreshGrant runs one LWA refresh-token grant per call, with no cache of
// its own, so the tokenCache around it alone decides when to refresh. Calls
// are serialised by that tokenCache.
type refreshGrant struct {
	config       *oauth2.Config
	ctx          context.Context
	refreshToken string
	onRefresh    func(error)
}

func (g *refreshGrant) Token() (*oauth2.Token, error) {
	tok, err := g.config.TokenSource(g.ctx, &oauth2.Token{RefreshToken: g.refreshToken}).Token()
	if g.onRefresh != nil {
		g.onRefresh(err)
	}
	if err != nil {
		return nil, scrubTokenError(err)
	}
	if tok.RefreshToken != "" {
		g.refreshToken = tok.RefreshToken
	}
	return tok, nil
}
