package mapping

import "net/http"

// cookie reads the request cookie called name, as (*http.Request).Cookie
// reads it. A hand-written reader that skipped building the Cookie saved
// 0.2 µs a lookup, less than the 1 µs per event a replacement of a library
// must save to be kept (bench/README.md).
func cookie(h *http.Request, name string) (string, bool) {
	c, err := h.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}
