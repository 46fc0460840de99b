package sandbox

import "net/http"

// serveList lists the stats and the kept events as JSON, newest first.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"stats": s.Stats(), "events": s.Received()})
}

// serveReset forgets the events and counters.
func (s *Server) serveReset(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	s.Reset()
	writeJSON(w, http.StatusOK, map[string]any{"stats": s.Stats()})
}
