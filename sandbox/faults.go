package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Faults makes the events endpoints misbehave, to try retries and timeouts.
// In JSON (POST /sandbox/faults) it reads and writes
// {"delay":"2s","status":503,"fail_first":3,"retry_after":1}, the delay as a
// Go duration string.
type Faults struct {
	// Delay holds each events call this long before answering; the wait
	// ends early when the caller gives up (the request context is done).
	Delay time.Duration
	// Status, when not 0, is answered instead of handling the call, with
	// Amazon's {code, message} body for that status (429
	// TOO_MANY_REQUESTS, 5xx INTERNAL_ERROR, …)…
	Status int
	// FailFirst …for the first FailFirst events calls only; 0 with a
	// Status means every call.
	FailFirst int
	// RetryAfter, when above 0, is sent as Retry-After (seconds) with Status.
	RetryAfter int
}

// faultsJSON is Faults on the wire.
type faultsJSON struct {
	Delay      string `json:"delay,omitempty"`
	Status     int    `json:"status,omitempty"`
	FailFirst  int    `json:"fail_first,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"`
}

// MarshalJSON writes the faults with the delay as a duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	out := faultsJSON{Status: f.Status, FailFirst: f.FailFirst, RetryAfter: f.RetryAfter}
	if f.Delay != 0 {
		out.Delay = f.Delay.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads faults written as MarshalJSON writes them and checks
// them: only those four fields, delay a non-negative duration such as "2s", status 0 or 400–599,
// fail_first and retry_after not negative.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var in faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	out := Faults{Status: in.Status, FailFirst: in.FailFirst, RetryAfter: in.RetryAfter}
	if in.Delay != "" {
		d, err := time.ParseDuration(in.Delay)
		if err != nil {
			return fmt.Errorf("delay %q is not a duration such as 2s", in.Delay)
		}
		out.Delay = d
	}
	if err := out.Check(); err != nil {
		return err
	}
	*f = out
	return nil
}

// Check says what is wrong with the faults, or nil: the same rule for the
// Caddyfile, the JSON config and POST /sandbox/faults.
func (f Faults) Check() error {
	switch {
	case f.Delay < 0:
		return errors.New("delay must not be negative")
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return errors.New("status must be 0 (none) or an error status from 400 to 599")
	case f.FailFirst < 0 || f.RetryAfter < 0:
		return errors.New("fail_first and retry_after must not be negative")
	}
	return nil
}

// applyFaults holds and fails the call to a's events endpoint as the
// faults say, keeping a failed call in the refused list. It returns false
// when it answered the call, or the caller gave up during the delay.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, a api) bool {
	if d := s.currentFaults().Delay; d > 0 && !sleep(r.Context(), d) {
		return false
	}
	s.mu.Lock()
	f := s.faults
	fail := f.Status != 0 && (f.FailFirst == 0 || s.failed < f.FailFirst)
	if fail {
		s.failed++
	}
	s.mu.Unlock()
	if !fail {
		return true
	}
	s.countRequest()
	status := f.Status
	if status < 100 || status > 999 { // set from Go unchecked; WriteHeader would panic
		status = http.StatusInternalServerError
	}
	cerr := &callError{status: status, code: codeFor(status), message: fmt.Sprintf("fault injected by the sandbox (%d %s)", status, http.StatusText(status))}
	s.keepRefused(r, a, cerr, true, countBody(r, a))
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	writeError(w, cerr.status, cerr.code, cerr.message)
	return false
}

// sleep waits d, or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// codeFor is Amazon's error code for a whole-request status.
func codeFor(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case status == http.StatusForbidden:
		return "FORBIDDEN"
	case status == http.StatusNotFound:
		return "NOT_FOUND"
	case status == http.StatusRequestEntityTooLarge:
		return "CONTENT_TOO_LARGE"
	case status == http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS"
	case status < 500:
		return "BAD_REQUEST"
	}
	return "INTERNAL_ERROR"
}

// serveFaults shows (GET) or replaces (POST) the faults.
func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead, http.MethodPost) {
		return
	}
	if r.Method == http.MethodPost {
		var f Faults
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&f); err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST",
				`faults must be JSON such as {"delay":"2s","status":503,"fail_first":3,"retry_after":1}: `+err.Error())
			return
		}
		s.SetFaults(f)
	}
	writeJSON(w, http.StatusOK, s.currentFaults())
}
