package amazon

import (
	"context"
	"errors"
	"net/http"
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
	return oauth2.ReuseTokenSourceWithExpiry(nil, &refreshGrant{config: oc, ctx: ctx, refreshToken: cfg.RefreshToken}, early), nil
}

// refreshGrant runs one LWA refresh-token grant per call, with no cache of
// its own, so the ReuseTokenSource around it alone decides when to refresh.
// Calls are serialised by that ReuseTokenSource.
type refreshGrant struct {
	config       *oauth2.Config
	ctx          context.Context
	refreshToken string
}

func (g *refreshGrant) Token() (*oauth2.Token, error) {
	tok, err := g.config.TokenSource(g.ctx, &oauth2.Token{RefreshToken: g.refreshToken}).Token()
	if err != nil {
		return nil, scrubTokenError(err)
	}
	if tok.RefreshToken != "" {
		g.refreshToken = tok.RefreshToken
	}
	return tok, nil
}
