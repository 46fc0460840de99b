package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// serveToken is Login with Amazon's refresh-token grant.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, lwaError("invalid_request", "use POST"))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, lwaError("invalid_request", "the body is not a form"))
		return
	}
	form := r.PostForm
	switch {
	case form.Get("grant_type") != "refresh_token":
		writeJSON(w, http.StatusBadRequest, lwaError("unsupported_grant_type", "grant_type must be refresh_token"))
		return
	case form.Get("client_id") == "" || form.Get("client_secret") == "" ||
		!matches(s.cfg.ClientID, form.Get("client_id")) || !matches(s.cfg.ClientSecret, form.Get("client_secret")):
		writeJSON(w, http.StatusUnauthorized, lwaError("invalid_client", "Client authentication failed"))
		return
	case form.Get("refresh_token") == "" || !matches(s.cfg.RefreshToken, form.Get("refresh_token")):
		writeJSON(w, http.StatusBadRequest, lwaError("invalid_grant", "The request has an invalid grant parameter : refresh_token"))
		return
	}
	token := "Atza|sandbox-" + randomHex(16)
	s.mu.Lock()
	now := s.cfg.Now()
	for t, exp := range s.tokens {
		if now.After(exp) {
			delete(s.tokens, t)
		}
	}
	s.tokens[token] = now.Add(s.cfg.TokenLifetime)
	s.stats.TokenGrants++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token, "token_type": "bearer",
		"expires_in": int(s.cfg.TokenLifetime / time.Second), "refresh_token": form.Get("refresh_token"),
	})
}

func (s *Server) validToken(token string) bool {
	if token == "" {
		return false
	}
	if slices.Contains(s.cfg.AccessTokens, token) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	return ok && s.cfg.Now().Before(exp)
}

func matches(want, got string) bool { return want == "" || want == got }

func lwaError(code, description string) map[string]string {
	return map[string]string{"error": code, "error_description": description}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// serveList lists the kept events as JSON, newest first.
func (s *Server) serveList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"stats": s.Stats(), "events": s.Received()})
}

// faultsJSON is Faults on the wire, with the delay as a Go duration string.
type faultsJSON struct {
	Delay      string `json:"delay,omitempty"`
	Status     int    `json:"status,omitempty"`
	FailFirst  int    `json:"fail_first,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"`
}

// serveFaults shows (GET) or replaces (POST) the faults.
func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var in faultsJSON
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "faults must be JSON such as {\"delay\":\"2s\",\"status\":503,\"fail_first\":3}")
			return
		}
		f := Faults{Status: in.Status, FailFirst: in.FailFirst, RetryAfter: in.RetryAfter}
		if in.Delay != "" {
			d, err := time.ParseDuration(in.Delay)
			if err != nil {
				writeError(w, http.StatusBadRequest, "BAD_REQUEST", "delay must be a duration such as 2s")
				return
			}
			f.Delay = d
		}
		s.SetFaults(f)
	}
	s.mu.Lock()
	f := s.faults
	s.mu.Unlock()
	out := faultsJSON{Status: f.Status, FailFirst: f.FailFirst, RetryAfter: f.RetryAfter}
	if f.Delay > 0 {
		out.Delay = f.Delay.String()
	}
	writeJSON(w, http.StatusOK, out)
}
