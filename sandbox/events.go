package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// api describes what differs between the two API generations.
type api struct {
	name, listField, clientHeader string
	indexBase                     int
	maxAge                        time.Duration
}

var (
	apiV2 = api{name: "v2", listField: "events", clientHeader: "Amazon-Ads-ClientId", indexBase: 0, maxAge: 21 * 24 * time.Hour}
	apiV1 = api{name: "v1", listField: "eventData", clientHeader: "Amazon-Advertising-API-ClientId", indexBase: 1, maxAge: 7 * 24 * time.Hour}
)

// maxPayload is the body size above which the sandbox answers 413.
const maxPayload = 5 << 20

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request, a api) {
	if !s.applyFaults(w, r) {
		return
	}
	defer s.count()
	if status, code, msg := s.checkCall(r, a); status != 0 {
		writeError(w, status, code, msg)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "could not read the body")
		return
	}
	if len(raw) > maxPayload {
		writeError(w, http.StatusRequestEntityTooLarge, "CONTENT_TOO_LARGE", "the request body is larger than the sandbox's 5 MiB limit")
		return
	}
	events, msg := decodeBatch(raw, a)
	if msg != "" {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", msg)
		return
	}
	now := s.cfg.Now()
	recs := make([]Received, len(events))
	for i, ev := range events {
		recs[i] = s.judge(ev, i, a, now)
	}
	s.keep(recs)
	writeJSON(w, http.StatusMultiStatus, answer(recs, a))
}

func (s *Server) count() {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
}

// applyFaults delays and fails the call as configured; false when it answered.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	f := s.faults
	fail := f.Status != 0 && (f.FailFirst == 0 || s.failed < f.FailFirst)
	if fail {
		s.failed++
	}
	s.mu.Unlock()
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		}
	}
	if !fail {
		return true
	}
	defer s.count()
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	writeError(w, f.Status, codeFor(f.Status), "fault injected by the sandbox")
	return false
}

func codeFor(status int) string {
	switch {
	case status == 400:
		return "BAD_REQUEST"
	case status == 401:
		return "UNAUTHORIZED"
	case status == 403:
		return "FORBIDDEN"
	case status == 404:
		return "NOT_FOUND"
	case status == 413:
		return "CONTENT_TOO_LARGE"
	case status == 429:
		return "TOO_MANY_REQUESTS"
	}
	return "INTERNAL_ERROR"
}

// checkCall checks the method and headers; a non-zero status is the answer.
func (s *Server) checkCall(r *http.Request, a api) (int, string, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "BAD_REQUEST", "use POST"
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return http.StatusBadRequest, "BAD_REQUEST", "Content-Type must be application/json"
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.validToken(token) {
		return http.StatusUnauthorized, "UNAUTHORIZED", "missing, unknown or expired bearer token"
	}
	if status, msg := checkHeader(r, "Amazon-Ads-AccountId", s.cfg.AccountID); status != 0 {
		return status, codeFor(status), msg
	}
	if status, msg := checkHeader(r, a.clientHeader, s.cfg.ClientID); status != 0 {
		return status, codeFor(status), msg
	}
	return 0, "", ""
}

func checkHeader(r *http.Request, name, want string) (int, string) {
	got := r.Header.Get(name)
	if got == "" {
		return http.StatusBadRequest, "missing header " + name
	}
	if want != "" && got != want {
		return http.StatusForbidden, name + " is not one this sandbox accepts"
	}
	return 0, ""
}

// decodeBatch reads the list of events; a message means the whole call is refused.
func decodeBatch(raw []byte, a api) ([]json.RawMessage, string) {
	var body map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&body); err != nil {
		return nil, "the body is not a JSON object: " + err.Error()
	}
	if a.name == "v1" {
		var method string
		if json.Unmarshal(body["ingestionMethod"], &method) != nil || method != "SERVER_TO_SERVER" {
			return nil, `ingestionMethod must be "SERVER_TO_SERVER"`
		}
	}
	var events []json.RawMessage
	if err := json.Unmarshal(body[a.listField], &events); err != nil || body[a.listField] == nil {
		return nil, a.listField + " must be an array of events"
	}
	if len(events) < 1 || len(events) > 500 {
		return nil, fmt.Sprintf("%s holds %d events; 1 to 500 are allowed", a.listField, len(events))
	}
	return events, ""
}

// judge validates one event and describes it.
func (s *Server) judge(raw json.RawMessage, i int, a api, now time.Time) Received {
	rec := Received{Time: now, API: a.name, Index: i, Event: slices.Clone(raw)}
	var ev map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil || ev == nil {
		rec.Errors = []FieldError{{Code: "FIELD_VALUE_IS_INVALID", FieldLocation: fmt.Sprintf("%s[%d]", a.listField, i), Message: "an event must be a JSON object"}}
		return rec
	}
	v := validator{prefix: fmt.Sprintf("%s[%d]", a.listField, i), now: now, maxAge: a.maxAge}
	if a.name == "v1" {
		v.eventV1(ev)
		describeV1(&rec, ev)
	} else {
		v.eventV2(ev)
		describeV2(&rec, ev)
	}
	rec.Errors = v.errs
	rec.Accepted = len(v.errs) == 0
	return rec
}

// answer builds Amazon's 207 body for the batch.
func answer(recs []Received, a api) map[string]any {
	success, failure := []any{}, []any{}
	for _, r := range recs {
		idx := r.Index + a.indexBase
		switch {
		case r.Accepted && a.name == "v1":
			success = append(success, map[string]any{"index": idx, "message": "Success"})
		case r.Accepted:
			success = append(success, map[string]any{"index": idx, "event": r.Event})
		case a.name == "v1":
			subs := make([]map[string]any, len(r.Errors))
			for i, e := range r.Errors {
				subs[i] = map[string]any{"errorCode": 400, "errorType": e.Code, "errorMessage": e.FieldLocation + ": " + e.Message}
			}
			failure = append(failure, map[string]any{"index": idx, "httpStatusCode": "400", "subErrors": subs})
		default:
			failure = append(failure, map[string]any{"index": idx, "errors": r.Errors})
		}
	}
	return map[string]any{"success": success, "error": failure}
}
