package mapping

import (
	"net/http"
	"os"
	"runtime/debug"
	"strings"
)

// cookie reads the request cookie called name as (*http.Request).Cookie
// does, without building a Cookie (and a list of them) for every lookup:
// the value is a part of the Cookie header. FuzzCookieMatchesNetHTTP holds
// the two equal.
func cookie(h *http.Request, name string) (string, bool) {
	if cookieLimitTuned {
		c, err := h.Cookie(name)
		if err != nil {
			return "", false
		}
		return c.Value, true
	}
	lines := h.Header["Cookie"]
	if name == "" || len(lines) == 0 || !withinCookieLimit(lines) {
		return "", false
	}
	for _, line := range lines {
		if v, ok := cookieInLine(line, name); ok {
			return v, true
		}
	}
	return "", false
}

// cookieInLine finds the first well-formed cookie called name in one
// Cookie header line.
func cookieInLine(line, name string) (string, bool) {
	line = trimHTTPSpace(line)
	for line != "" {
		var part string
		part, line, _ = strings.Cut(line, ";")
		key, value, _ := strings.Cut(trimHTTPSpace(part), "=")
		if trimHTTPSpace(key) != name || !isHTTPToken(name) {
			continue
		}
		if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		if isCookieValue(value) {
			return value, true
		}
	}
	return "", false
}

// maxCookies is net/http's default limit: a request with more cookies
// than this has none.
const maxCookies = 3000

func withinCookieLimit(lines []string) bool {
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	return n <= maxCookies
}

// cookieLimitTuned is set when GODEBUG changes net/http's cookie limit:
// then cookies are read by net/http itself.
var cookieLimitTuned = godebugNames("httpcookiemaxnum")

// godebugNames reports whether the GODEBUG setting, or the binary's
// default one, names setting.
func godebugNames(setting string) bool {
	if strings.Contains(os.Getenv("GODEBUG"), setting) {
		return true
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "DefaultGODEBUG" && strings.Contains(s.Value, setting) {
			return true
		}
	}
	return false
}

func trimHTTPSpace(s string) string {
	for s != "" && isHTTPSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isHTTPSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isHTTPSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isHTTPToken reports whether s is an RFC 7230 token, as a cookie's name
// must be.
func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && strings.IndexByte("!#$%&'*+-.^_`|~", c) < 0 {
			return false
		}
	}
	return true
}

func isCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}
