package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"time"
)

// serveToken is Login with Amazon's refresh-token grant: a form body with
// grant_type, refresh_token, client_id and client_secret, answered with
// access_token, token_type, expires_in and refresh_token (docs/amazon.md
// "Hosts and Login with Amazon" [H]).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, lwaError("invalid_request", "use POST"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, lwaError("invalid_request", "the body must be an application/x-www-form-urlencoded form"))
		return
	}
	form := r.PostForm
	if status, code, desc := s.checkGrant(form.Get("grant_type"), form.Get("client_id"), form.Get("client_secret"), form.Get("refresh_token")); status != 0 {
		writeJSON(w, status, lwaError(code, desc))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  s.issue(),
		"token_type":    "bearer",
		"expires_in":    int(s.cfg.TokenLifetime / time.Second),
		"refresh_token": form.Get("refresh_token"),
	})
}

// checkGrant returns a non-zero status with LWA's error code when the grant
// is refused. The codes and statuses are OAuth 2.0's (RFC 6749 section
// 5.2: unsupported_grant_type and invalid_grant 400, invalid_client 401),
// which LWA answers with; the form is docs/amazon.md "Hosts and Login
// with Amazon" [H].
func (s *Server) checkGrant(grantType, clientID, secret, refresh string) (int, string, string) {
	switch {
	case grantType != "refresh_token":
		return http.StatusBadRequest, "unsupported_grant_type", "grant_type must be refresh_token"
	case clientID == "" || secret == "" || !matches(s.cfg.ClientID, clientID) || !matches(s.cfg.ClientSecret, secret):
		return http.StatusUnauthorized, "invalid_client", "Client authentication failed"
	case refresh == "" || !matches(s.cfg.RefreshToken, refresh):
		return http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
	}
	return 0, "", ""
}

// issue makes a new access token, remembers it until it expires and forgets
// the expired ones.
func (s *Server) issue() string {
	token := "Atza|sandbox-" + randomHex(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	for t, exp := range s.tokens {
		if !now.Before(exp) {
			delete(s.tokens, t)
		}
	}
	s.tokens[token] = now.Add(s.cfg.TokenLifetime)
	s.stats.TokenGrants++
	return token
}

// validToken reports whether token is a static one or an issued one that
// has not expired.
func (s *Server) validToken(token string) bool {
	if token == "" {
		return false
	}
	for _, t := range s.cfg.AccessTokens {
		if t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			return true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	return ok && s.cfg.Now().Before(exp)
}

// matches reports whether got is what is configured; anything goes when
// nothing is.
func matches(want, got string) bool {
	return want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

func lwaError(code, description string) map[string]string {
	return map[string]string{"error": code, "error_description": description}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
