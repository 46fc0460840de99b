package amazon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"golang.org/x/oauth2"
)

// Version selects the API generation.
type Version string

const (
	// V2 is the current Events API, POST /adsApi/v1/create/events.
	V2 Version = "v2"
	// V1 is the legacy API, POST /events/v1.
	V1 Version = "v1"
)

// Paths of the events call per API version.
const (
	PathV2 = "/adsApi/v1/create/events"
	PathV1 = "/events/v1"
)

// MaxEventAge returns how old an event may be for Amazon to accept it.
func MaxEventAge(v Version) time.Duration {
	if v == V1 {
		return 7 * 24 * time.Hour
	}
	return 21 * 24 * time.Hour
}

// MaxEventTimeAhead is how far in the future an event time may be. Amazon
// documents no limit; an event is reported after it happened, so a time
// ahead of the clock is a clock skew between the shop and this server, or
// a value a visitor chose. Past 15 minutes the event is refused (and the
// sandbox refuses it too).
const MaxEventTimeAhead = 15 * time.Minute

// MaxValue bounds an event's value: Amazon takes at most two decimals, and
// past 10^13 a float64 no longer holds every cent exactly. A larger value
// (1e308, say, which would be sent as something else) is refused.
const MaxValue = 1e13

// Region is an Amazon Ads region: its API host and its Login with Amazon token URL.
type Region struct {
	// Endpoint is the API base URL.
	Endpoint string
	// TokenURL is the LWA token endpoint.
	TokenURL string
}

// Regions maps the region names of the config (na, eu, fe) to their hosts.
var Regions = map[string]Region{
	"na": {Endpoint: "https://advertising-api.amazon.com", TokenURL: "https://api.amazon.com/auth/o2/token"},
	"eu": {Endpoint: "https://advertising-api-eu.amazon.com", TokenURL: "https://api.amazon.co.uk/auth/o2/token"},
	"fe": {Endpoint: "https://advertising-api-fe.amazon.com", TokenURL: "https://api.amazon.co.jp/auth/o2/token"},
}

// Client sends batches of events to one Amazon Ads account.
type Client struct {
	// Endpoint is the API base URL, without a trailing slash.
	Endpoint string
	// API is the API generation to speak.
	API Version
	// ClientID is the LWA client ID, sent in the client header.
	ClientID string
	// AccountID is sent in Amazon-Ads-AccountId as given.
	AccountID string
	// Tokens gives the bearer token of each request.
	Tokens oauth2.TokenSource
	// HTTP is the client used for the events call; it must have a timeout.
	HTTP *http.Client
}

// maxResponseBytes caps how much of a 2xx answer of Amazon's is read (a
// 207 echoes every accepted event); maxErrorBytes caps an error answer, of
// which only Amazon's code and message are used.
const (
	maxResponseBytes = 4 << 20
	maxErrorBytes    = 64 << 10
)

// Result is Amazon's answer to one batch.
type Result struct {
	// Status is the HTTP status of the answer.
	Status int
	// Accepted counts the events Amazon took.
	Accepted int
	// Rejected lists the events Amazon refused, by their index in the batch (0-based).
	Rejected []Rejection
	// Code and Message are the whole-request error of a non-207 answer.
	Code, Message string
	// RetryAfter is the Retry-After of a 429 or 503, zero when absent.
	RetryAfter time.Duration
}

// Rejection is one event Amazon refused within a 207 answer.
type Rejection struct {
	// Index is the event's position in the batch, always 0-based.
	Index int
	// Status is the event's own HTTP status where Amazon gives one (v1's
	// httpStatusCode), else 0.
	Status int
	// Errors are Amazon's reasons.
	Errors []FieldError
}

// transientCodes are the error codes of Amazon's schema (ErrorCode) that
// say the event may be taken later: "an unexpected condition" on Amazon's
// side, "please slow down", and "a conflict; please retry your request".
var transientCodes = map[string]bool{"INTERNAL_ERROR": true, "TOO_MANY_REQUESTS": true, "CONFLICT": true}

// Transient reports whether the event may be taken if sent again: its own
// status is 429 or 5xx, or every reason Amazon gave is a transient code
// (or an HTTP_429 / HTTP_5xx one). Anything else is final.
func (r Rejection) Transient() bool {
	if r.Status == 429 || r.Status >= 500 {
		return true
	}
	if len(r.Errors) == 0 {
		return false
	}
	for _, e := range r.Errors {
		code := e.Code
		if status, ok := strings.CutPrefix(code, "HTTP_"); ok && (status == "429" || strings.HasPrefix(status, "5")) {
			continue
		}
		if !transientCodes[code] {
			return false
		}
	}
	return true
}

// FieldError is one reason Amazon gave for refusing an event.
type FieldError struct {
	// Code is Amazon's error code, e.g. FIELD_VALUE_IS_INVALID.
	Code string `json:"code"`
	// FieldLocation names the field, when Amazon says.
	FieldLocation string `json:"fieldLocation,omitempty"`
	// Message is Amazon's explanation.
	Message string `json:"message"`
}

// String renders the reason as one line.
func (f FieldError) String() string {
	if f.FieldLocation != "" {
		return f.Code + " at " + f.FieldLocation + ": " + f.Message
	}
	return f.Code + ": " + f.Message
}

// Send posts one batch and parses the answer. Each event is the JSON of an
// Event (see Encode): a v2 batch is these bytes joined, with no decoding or
// re-encoding; a v1 batch converts each event with ToV1. A transport failure
// or an unreadable token is returned as an error; any HTTP answer is a
// Result.
func (c *Client) Send(ctx context.Context, events []json.RawMessage) (*Result, error) {
	if len(events) == 0 || len(events) > MaxBatch {
		return nil, fmt.Errorf("a batch holds 1–%d events, not %d", MaxBatch, len(events))
	}
	body, path, err := c.encode(events)
	if err != nil {
		return nil, err
	}
	res, err := c.post(ctx, path, body, len(events))
	if err == nil && res.Status == http.StatusUnauthorized {
		// The token may have been revoked or expired early: get a new one
		// and try once more.
		if inv, ok := c.Tokens.(Invalidator); ok {
			inv.Invalidate()
			return c.post(ctx, path, body, len(events))
		}
	}
	return res, err
}

func (c *Client) post(ctx context.Context, path string, body []byte, n int) (*Result, error) {
	tok, err := tokenWithin(ctx, c.Tokens)
	if err != nil {
		return nil, fmt.Errorf("getting an access token: %w", scrubTokenError(err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the events request: %w", err)
	}
	c.setHeaders(req, tok.AccessToken)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("posting events: %w", err)
	}
	defer resp.Body.Close()
	raw, err := readAnswer(resp)
	if err != nil {
		return nil, fmt.Errorf("reading Amazon's answer (status %d): %w", resp.StatusCode, err)
	}
	return c.parse(resp, raw, n), nil
}

// readAnswer reads at most maxResponseBytes of a 2xx answer and
// maxErrorBytes of any other, into one buffer when its length is announced.
func readAnswer(resp *http.Response) ([]byte, error) {
	limit := int64(maxErrorBytes)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		limit = maxResponseBytes
	}
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 {
		buf.Grow(int(min(n, limit)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, limit))
	return buf.Bytes(), err
}

// encode makes the request body of a batch: a new one each time (a pooled
// buffer saved 0.2 µs per event, under the 1 µs a trick must save; and
// the transport may read a body after Send has returned).
func (c *Client) encode(events []json.RawMessage) ([]byte, string, error) {
	if c.API == V1 {
		v1 := V1Request{IngestionMethod: IngestionServerToServer, EventData: make([]V1Event, len(events))}
		for i, raw := range events {
			var e Event
			if err := json.Unmarshal(raw, &e); err != nil {
				return nil, "", fmt.Errorf("event %d of the batch is not an event's JSON: %w", i, err)
			}
			v1.EventData[i] = e.ToV1()
		}
		b, err := json.Marshal(v1)
		return b, PathV1, err
	}
	return appendV2(nil, events), PathV2, nil
}

// appendV2 appends the body of a v2 request, {"events":[…]}, to b, from
// the events' JSON as it is.
func appendV2(b []byte, events []json.RawMessage) []byte {
	size := len(`{"events":[]}`) + len(events)
	for _, e := range events {
		size += len(e)
	}
	b = slices.Grow(b, size)
	b = append(b, `{"events":[`...)
	for i, e := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return append(b, "]}"...)
}

func (c *Client) setHeaders(req *http.Request, accessToken string) {
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Amazon-Ads-AccountId", c.AccountID)
	if c.API == V1 {
		req.Header.Set("Amazon-Advertising-API-ClientId", c.ClientID)
	} else {
		req.Header.Set("Amazon-Ads-ClientId", c.ClientID)
	}
}

func (c *Client) parse(resp *http.Response, raw []byte, n int) *Result {
	res := &Result{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	if resp.StatusCode != http.StatusMultiStatus {
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) != nil || (e.Code == "" && e.Message == "") {
			e.Message = truncate(string(raw), 300)
		}
		res.Code, res.Message = e.Code, e.Message
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			res.Accepted = n
		}
		return res
	}
	if c.API == V1 {
		res.Rejected = parseV1Errors(raw)
	} else {
		res.Rejected = parseV2Errors(raw)
	}
	res.Accepted = n - len(res.Rejected)
	return res
}

// parseV2Errors reads the "error" list of a 207 answer; the "success" list,
// one entry per accepted event, is skipped without being decoded.
func parseV2Errors(raw []byte) []Rejection {
	var m struct {
		Error []struct {
			Index  int          `json:"index"`
			Errors []FieldError `json:"errors"`
		} `json:"error"`
	}
	list := gjson.GetBytes(raw, "error")
	if !list.Exists() {
		return nil
	}
	if err := json.Unmarshal([]byte(`{"error":`+list.Raw+`}`), &m); err != nil {
		return nil
	}
	out := make([]Rejection, 0, len(m.Error))
	for _, e := range m.Error {
		out = append(out, Rejection{Index: e.Index, Errors: e.Errors})
	}
	return out
}

func parseV1Errors(raw []byte) []Rejection {
	var m struct {
		Error []struct {
			Index          int    `json:"index"`
			HTTPStatusCode string `json:"httpStatusCode"`
			SubErrors      []struct {
				ErrorCode    json.RawMessage `json:"errorCode"`
				ErrorType    string          `json:"errorType"`
				ErrorMessage string          `json:"errorMessage"`
			} `json:"subErrors"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	out := make([]Rejection, 0, len(m.Error))
	for _, e := range m.Error {
		r := Rejection{Index: e.Index - 1} // v1 answers count from 1
		r.Status, _ = strconv.Atoi(e.HTTPStatusCode)
		for _, s := range e.SubErrors {
			r.Errors = append(r.Errors, FieldError{Code: s.ErrorType, Message: s.ErrorMessage})
		}
		if len(r.Errors) == 0 {
			r.Errors = []FieldError{{Code: "HTTP_" + e.HTTPStatusCode, Message: "rejected"}}
		}
		out = append(out, r)
	}
	return out
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// scrubTokenError keeps the LWA error code and description but never the
// request, which carries the client secret and refresh token.
func scrubTokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := re.ErrorCode
		if re.ErrorDescription != "" {
			msg += ": " + re.ErrorDescription
		}
		if msg == "" {
			msg = truncate(string(re.Body), 200)
		}
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("login with Amazon answered %d %s; check client_id, client_secret and refresh_token", status, msg)
	}
	return err
}

// tokenWithin gets a token, giving up when ctx ends (oauth2 token sources
// take no context); a token call still running then ends on its HTTP
// client's timeout.
func tokenWithin(ctx context.Context, ts oauth2.TokenSource) (*oauth2.Token, error) {
	type answer struct {
		tok *oauth2.Token
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		tok, err := ts.Token()
		ch <- answer{tok, err}
	}()
	select {
	case a := <-ch:
		return a.tok, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
