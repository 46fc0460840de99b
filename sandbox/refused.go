package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// hiddenID stands for an account or client header value that is a secret
// or a token, which the sandbox never shows.
const hiddenID = "(not shown: a secret or token)"

// maxShownID is how many characters of an account or client header value
// are kept; longer values are cut and end with "…".
const maxShownID = 100

// keepRefused keeps an events call refused whole with cerr; count is the
// number of events its body held, nil when unknown. Call it before
// answering: it records only headers, and never the Authorization header.
func (s *Server) keepRefused(r *http.Request, a api, cerr *callError, fault bool, count *int) {
	account, client := r.Header.Get("Amazon-Ads-AccountId"), r.Header.Get(a.clientHeader)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused.add(Refused{
		Time: s.cfg.Now(), API: a.name,
		Status: cerr.status, Code: cerr.code, Message: cerr.message, Fault: fault,
		EventCount: count,
		AccountID:  s.shownID(account), ClientID: s.shownID(client),
	})
}

// shownID returns an account or client header value as the sandbox shows
// it: hidden when it is a configured secret, a static or issued token or
// looks like a token, and cut when long. s.mu must be held.
func (s *Server) shownID(v string) string {
	if v == "" {
		return ""
	}
	if s.secret(v) {
		return hiddenID
	}
	if utf8.RuneCountInString(v) <= maxShownID {
		return v
	}
	return string([]rune(v)[:maxShownID]) + "…"
}

// secret reports whether v is the configured client secret or refresh
// token, a static or issued access token, a bearer credential, or an LWA
// access (Atza|) or refresh (Atzr|) token, e.g. when an ID header carries
// one by mistake. s.mu must be held.
func (s *Server) secret(v string) bool {
	t := strings.TrimSpace(v)
	for _, known := range append([]string{s.cfg.ClientSecret, s.cfg.RefreshToken}, s.cfg.AccessTokens...) {
		if known != "" && (v == known || t == known) {
			return true
		}
	}
	if _, issued := s.tokens[t]; issued {
		return true
	}
	lower := strings.ToLower(t)
	return strings.HasPrefix(lower, "bearer ") || strings.HasPrefix(t, "Atza|") || strings.HasPrefix(t, "Atzr|")
}

// countBody reads the body of a call refused before its body was read and
// counts its events; nil when unknown.
func countBody(r *http.Request, a api) *int {
	if r.Body == nil || r.ContentLength > maxPayload {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(raw) > maxPayload {
		return nil
	}
	return countEvents(raw, a)
}

// countEvents counts the items of the body's list field (v2 events, v1
// eventData); nil when the body is not a JSON object with that field an
// array.
func countEvents(raw []byte, a api) *int {
	if !json.Valid(raw) {
		return nil
	}
	body := gjson.ParseBytes(raw)
	if !body.IsObject() {
		return nil
	}
	list := body.Get(gjson.Escape(a.listField))
	if !list.IsArray() {
		return nil
	}
	n := 0
	list.ForEach(func(_, _ gjson.Result) bool {
		n++
		return true
	})
	return &n
}
