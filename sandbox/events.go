package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// api describes what differs between the two API generations in a call.
type api struct {
	name, listField, clientHeader string
	indexBase                     int
	maxAge                        time.Duration
}

// docs/amazon.md "Two generations", its table: v2's list field events,
// client header Amazon-Ads-ClientId, 0-based indexes and 21 days are [H]; v1's
// eventData, Amazon-Advertising-API-ClientId, 1-based indexes and 7 days
// are [M] (v1 list field, header and 1-based indexes also in SEG
// trackConversion/utils.ts sendEventsRequest and handleBatchResponse).
var (
	apiV2 = api{name: "v2", listField: "events", clientHeader: "Amazon-Ads-ClientId", indexBase: 0, maxAge: 21 * 24 * time.Hour}
	apiV1 = api{name: "v1", listField: "eventData", clientHeader: "Amazon-Advertising-API-ClientId", indexBase: 1, maxAge: 7 * 24 * time.Hour}
)

// maxPayload is the body size above which the sandbox answers 413
// CONTENT_TOO_LARGE. Amazon answers 413 (schema CreateEvent responses) but
// publishes no limit (docs/amazon.md "Limits"); 5 MiB is not Amazon's
// rule but the sandbox's guard against reading an unbounded body.
const maxPayload = 5 << 20

// ingestionServerToServer is the only ingestion method: schema
// EventIngestionMethod (v2); v1's body ingestionMethod, docs/amazon.md
// "Two generations" [M] and SEG trackConversion/utils.ts sendEventsRequest.
const ingestionServerToServer = "SERVER_TO_SERVER"

// callError is a whole-request refusal.
type callError struct {
	status        int
	code, message string
}

func refuse(status int, message string) *callError {
	return &callError{status: status, code: codeFor(status), message: message}
}

// serveEvents handles one events call: faults, then headers, then the
// body, then each event.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request, a api) {
	if !s.applyFaults(w, r, a) {
		return
	}
	s.countRequest()
	events, count, cerr := s.readCall(r, a)
	if cerr != nil {
		s.keepRefused(r, a, cerr, false, count)
		if cerr.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		writeError(w, cerr.status, cerr.code, cerr.message)
		return
	}
	now := s.cfg.Now()
	recs := make([]Received, len(events))
	eu := s.cfg.eu()
	for i, ev := range events {
		recs[i] = judge(ev, i, a, now, eu)
	}
	s.record(recs)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusMultiStatus)
	_, _ = w.Write(answer(recs, a))
}

// readCall checks the call and returns its events. When it refuses the
// call it returns, for the refused list, how many events the body held
// (nil when unknown).
func (s *Server) readCall(r *http.Request, a api) ([]json.RawMessage, *int, *callError) {
	if cerr := s.checkCall(r, a); cerr != nil {
		return nil, countBody(r, a), cerr
	}
	if r.ContentLength > maxPayload {
		return nil, nil, tooLarge()
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "could not read the request body")
	}
	if len(raw) > maxPayload {
		return nil, nil, tooLarge()
	}
	events, cerr := decodeBatch(raw, a)
	if cerr != nil {
		return nil, countEvents(raw, a), cerr
	}
	return events, nil, nil
}

func tooLarge() *callError {
	return refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than the sandbox's %d MiB limit; split the batch", maxPayload>>20))
}

// checkCall checks the method, content type, bearer token and headers.
func (s *Server) checkCall(r *http.Request, a api) *callError {
	// The path has a post operation only (schema paths./adsApi/v1/create/events).
	if r.Method != http.MethodPost {
		return refuse(http.StatusMethodNotAllowed, "use POST")
	}
	if cerr := checkJSON(r); cerr != nil {
		return cerr
	}
	// schema CreateEvent security OAuth2, 401 UnauthorizedResponseContent.
	if !s.validToken(bearer(r)) {
		return refuse(http.StatusUnauthorized, "the bearer token in the Authorization header is missing, unknown or expired")
	}
	// schema parameters AccountIdHeader (required) and ClientIdHeader
	// (required); v1: docs/amazon.md "Two generations" [M]. 403 (schema
	// ForbiddenResponseContent) for an account or client other than the
	// configured one.
	if cerr := checkHeader(r, "Amazon-Ads-AccountId", s.cfg.AccountID); cerr != nil {
		return cerr
	}
	return checkHeader(r, a.clientHeader, s.cfg.ClientID)
}

// checkJSON refuses a body that is not declared as JSON: schema
// CreateEvent requestBody content application/json.
func checkJSON(r *http.Request) *callError {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return refuse(http.StatusBadRequest, "Content-Type must be application/json")
	}
	return nil
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

func checkHeader(r *http.Request, name, want string) *callError {
	got := r.Header.Get(name)
	if got == "" {
		return refuse(http.StatusBadRequest, "missing required header "+name)
	}
	if want != "" && got != want {
		return refuse(http.StatusForbidden, "the "+name+" header names an account or client this sandbox does not accept")
	}
	return nil
}

// decodeBatch reads the list of events of a call body (schema
// CreateEventRequest: an object whose events holds 1 to 500 events; v1:
// eventData, with ingestionMethod SERVER_TO_SERVER, docs/amazon.md "Two
// generations" [M], and the same 1–500, docs/amazon.md "Limits" [H]). The
// body is checked once as a whole; the events are slices of it.
func decodeBatch(raw []byte, a api) ([]json.RawMessage, *callError) {
	if !json.Valid(raw) || !gjson.ParseBytes(raw).IsObject() {
		var body map[string]json.RawMessage
		err := decodeOne(raw, &body)
		if err == nil {
			err = errors.New("it is " + gjson.ParseBytes(raw).Type.String())
		}
		return nil, refuse(http.StatusBadRequest, "the body is not a JSON object: "+err.Error())
	}
	if a == apiV1 {
		if m := gjson.GetBytes(raw, "ingestionMethod"); m.Type != gjson.String || m.Str != ingestionServerToServer {
			return nil, refuse(http.StatusBadRequest, `ingestionMethod must be "SERVER_TO_SERVER"`)
		}
	}
	list := gjson.GetBytes(raw, gjson.Escape(a.listField))
	if !list.IsArray() {
		return nil, refuse(http.StatusBadRequest, a.listField+" is required and must be an array of events")
	}
	var events []json.RawMessage
	list.ForEach(func(_, ev gjson.Result) bool {
		events = append(events, json.RawMessage(ev.Raw))
		return true
	})
	if len(events) < 1 || len(events) > amazon.MaxBatch {
		return nil, refuse(http.StatusBadRequest, fmt.Sprintf("%s holds %d events; 1 to %d are allowed", a.listField, len(events), amazon.MaxBatch))
	}
	return events, nil
}

// decodeOne decodes exactly one JSON value, numbers as json.Number, and
// refuses anything after it.
func decodeOne(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// judge validates one event and describes it; eu applies the EU consent rule.
func judge(raw json.RawMessage, i int, a api, now time.Time, eu bool) Received {
	rec := Received{Time: now, API: a.name, Index: i, Event: slices.Clone(raw)}
	prefix := fmt.Sprintf("%s[%d]", a.listField, i)
	var ev map[string]any
	if err := decodeOne(raw, &ev); err != nil || ev == nil {
		rec.Errors = []FieldError{{Code: "FIELD_VALUE_IS_INVALID", FieldLocation: prefix, Message: "an event must be a JSON object"}}
		return rec
	}
	v := validator{prefix: prefix, now: now, maxAge: a.maxAge, eu: eu}
	if a == apiV1 {
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

// answer builds Amazon's 207 body for the batch: v2 schema
// EventMultiStatusResponse {success:[{index, event}], error:[{index,
// errors}]}; v1 docs/amazon.md "Two generations" [M] {success:[{index,
// message}], error:[{index, httpStatusCode, subErrors}]} (SEG types.ts
// ImportConversionEventsResponse).
// Accepted v2 events are echoed as they came (valid JSON: the whole body
// was checked).
func answer(recs []Received, a api) []byte {
	out := []byte(`{"success":[`)
	first := true
	for _, r := range recs {
		if !r.Accepted {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, `{"index":`...)
		out = strconv.AppendInt(out, int64(r.Index+a.indexBase), 10)
		if a == apiV1 {
			out = append(out, `,"message":"Success"}`...)
		} else {
			out = append(out, `,"event":`...)
			out = append(out, r.Event...)
			out = append(out, '}')
		}
	}
	out = append(out, `],"error":[`...)
	first = true
	for _, r := range recs {
		if r.Accepted {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		var failure any = map[string]any{"index": r.Index + a.indexBase, "errors": r.Errors}
		if a == apiV1 {
			failure = map[string]any{"index": r.Index + a.indexBase, "httpStatusCode": "400", "subErrors": subErrors(r.Errors)}
		}
		b, _ := json.Marshal(failure)
		out = append(out, b...)
	}
	return append(out, "]}\n"...)
}

// subErrors words errors the v1 way; v1 has no field location, so the
// message starts with it.
func subErrors(errs []FieldError) []map[string]any {
	subs := make([]map[string]any, len(errs))
	for i, e := range errs {
		subs[i] = map[string]any{"errorCode": 400, "errorType": e.Code, "errorMessage": e.FieldLocation + ": " + e.Message}
	}
	return subs
}

// Check validates one event as the events endpoint would, in the v2 shape
// (version "v2") or the legacy v1 shape ("v1"), and returns the verdict
// without keeping it. The dry run and the mapping tester use it. It knows
// no region, so it does not apply the EU consent rule (see Config.Region).
func Check(event json.RawMessage, version string, now time.Time) Received {
	a := apiV2
	if version == "v1" {
		a = apiV1
	}
	return judge(event, 0, a, now, false)
}
