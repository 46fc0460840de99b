package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
)

// eventPathPrefix is where one kept event is served: the prefix, then the
// event's Number, e.g. /sandbox/events/7.
const eventPathPrefix = "/sandbox/events/"

// serveList lists the stats and the kept events as JSON, newest first.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"stats": s.Stats(), "events": s.Received()})
}

// serveEvent serves the kept event whose Number is n (the path after
// eventPathPrefix), as the same object /sandbox/events lists it: the
// summary, the verdict, the errors and the event as received.
func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request, n string) {
	num, err := strconv.Atoi(n)
	if err != nil || num < 1 || strconv.Itoa(num) != n {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such path in the Amazon sandbox: "+r.URL.Path+"; one event is at "+eventPathPrefix+"<n>, n the number the page shows")
		return
	}
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	rec, ok := s.ReceivedNumber(num)
	if !ok {
		writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf(
			"event %d is not kept: it has not arrived yet, or was forgotten (the sandbox keeps the last %d events; POST /sandbox/reset forgets them all)", num, s.cfg.Keep))
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// serveRefused lists the kept calls refused whole as JSON, newest first:
// {"refused":[…]}.
func (s *Server) serveRefused(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"refused": s.Refused()})
}

// serveReset forgets the events, the refused calls and the counters.
func (s *Server) serveReset(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	s.Reset()
	writeJSON(w, http.StatusOK, map[string]any{"stats": s.Stats()})
}
