package amazon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func testEvent(id string) Event {
	v := 12.5
	return Event{
		EventDescription:      EventDescription{Name: "purchase", ConversionType: "OFF_AMAZON_PURCHASES", EventSource: "WEBSITE", EventIngestionMethod: IngestionServerToServer},
		EventTime:             "2026-11-25T12:00:00.000Z",
		EventID:               id,
		CountryCode:           "US",
		MatchKeys:             []MatchKey{{Type: "FIP", Values: []string{"203.0.113.7"}}},
		Value:                 &v,
		CustomData:            []CustomData{{Name: "brand", Value: "acme"}},
		DataProcessingOptions: &DataProcessingOptions{Options: LimitedDataUse},
	}
}

type capture struct {
	path    string
	header  http.Header
	body    map[string]any
	status  int
	answer  string
	headers map[string]string
}

func (c *capture) server(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.path, c.header = r.URL.Path, r.Header.Clone()
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &c.body)
		for k, v := range c.headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(c.status)
		io.WriteString(w, c.answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func client(endpoint string, api Version) *Client {
	return &Client{Endpoint: endpoint, API: api, ClientID: "cid", AccountID: "ACCT",
		Tokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"}), HTTP: &http.Client{Timeout: 5 * time.Second}}
}

func TestSendV2UsesAmazonsPathHeadersAndParses207(t *testing.T) {
	c := &capture{status: 207, answer: `{"success":[{"index":0,"event":{}}],"error":[{"index":1,"errors":[{"code":"FIELD_VALUE_IS_INVALID","fieldLocation":"events[1].countryCode","message":"bad"}]}]}`}
	res, err := client(c.server(t).URL, V2).Send(context.Background(), Encode(testEvent("a"), testEvent("b")))
	if err != nil {
		t.Fatal(err)
	}
	if c.path != PathV2 || c.header.Get("Amazon-Ads-ClientId") != "cid" || c.header.Get("Amazon-Ads-AccountId") != "ACCT" ||
		c.header.Get("Authorization") != "Bearer tok" || c.header.Get("Content-Type") != "application/json" {
		t.Errorf("path %s headers %v", c.path, c.header)
	}
	events := c.body["events"].([]any)
	first := events[0].(map[string]any)
	if first["eventId"] != "a" || first["dataProcessingOptions"].(map[string]any)["options"] != "LIMITED_DATA_USE" {
		t.Errorf("body %v", first)
	}
	if res.Status != 207 || res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1 ||
		res.Rejected[0].Errors[0].String() != "FIELD_VALUE_IS_INVALID at events[1].countryCode: bad" {
		t.Errorf("result %+v", res)
	}
}

func TestSendV1UsesLegacyNamesAndOneBasedIndexes(t *testing.T) {
	c := &capture{status: 207, answer: `{"success":[{"index":1,"message":"Success"}],"error":[{"index":2,"httpStatusCode":"400","subErrors":[{"errorCode":400,"errorType":"FIELD_VALUE_IS_INVALID","errorMessage":"bad country"}]}]}`}
	res, err := client(c.server(t).URL, V1).Send(context.Background(), Encode(testEvent("a"), testEvent("b")))
	if err != nil {
		t.Fatal(err)
	}
	if c.path != PathV1 || c.header.Get("Amazon-Advertising-API-ClientId") != "cid" || c.body["ingestionMethod"] != "SERVER_TO_SERVER" {
		t.Errorf("path %s headers %v body %v", c.path, c.header, c.body)
	}
	ev := c.body["eventData"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "eventType", "eventActionSource", "timestamp", "clientDedupeId", "customAttributes"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("v1 event lacks %s: %v", k, ev)
		}
	}
	if dpo, _ := ev["dataProcessingOptions"].([]any); len(dpo) != 1 || dpo[0] != "LIMITED_DATA_USE" {
		t.Errorf("dataProcessingOptions %v, want the array form", ev["dataProcessingOptions"])
	}
	if len(res.Rejected) != 1 || res.Rejected[0].Index != 1 || res.Accepted != 1 {
		t.Errorf("result %+v, want the second event (1-based index 2) rejected", res)
	}
}

func TestSendReportsWholeRequestErrorsAndRetryAfter(t *testing.T) {
	c := &capture{status: 429, answer: `{"code":"TOO_MANY_REQUESTS","message":"slow down"}`, headers: map[string]string{"Retry-After": "7"}}
	res, err := client(c.server(t).URL, V2).Send(context.Background(), Encode(testEvent("a")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 429 || res.Code != "TOO_MANY_REQUESTS" || res.RetryAfter != 7*time.Second || res.Accepted != 0 {
		t.Errorf("result %+v", res)
	}
	c2 := &capture{status: 502, answer: `<html>bad gateway</html>`}
	res, _ = client(c2.server(t).URL, V2).Send(context.Background(), Encode(testEvent("a")))
	if res.Status != 502 || !strings.Contains(res.Message, "bad gateway") {
		t.Errorf("result %+v", res)
	}
}

func TestSendRefusesEmptyAndOversizedBatches(t *testing.T) {
	c := client("http://127.0.0.1:1", V2)
	if _, err := c.Send(context.Background(), nil); err == nil {
		t.Error("empty batch sent")
	}
	if _, err := c.Send(context.Background(), make([]json.RawMessage, MaxBatch+1)); err == nil {
		t.Error("501 events sent")
	}
}

func TestRefreshTokenGrantIsCachedAndRenewedEarly(t *testing.T) {
	var grants atomic.Int64
	lifetime := "3600"
	lwa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Header.Get("Authorization") != "" {
			t.Error("LWA wants the credentials in the form, not in Authorization")
		}
		want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt"}, "client_id": {"cid"}, "client_secret": {"cs"}}
		for k, v := range want {
			if r.PostForm.Get(k) != v[0] {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				io.WriteString(w, `{"error":"invalid_grant","error_description":"bad `+k+`"}`)
				return
			}
		}
		n := grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-`+string(rune('0'+n))+`","token_type":"bearer","expires_in":`+lifetime+`,"refresh_token":"rt"}`)
	}))
	defer lwa.Close()
	ts, err := NewTokenSource(TokenConfig{ClientID: "cid", ClientSecret: "cs", RefreshToken: "rt", TokenURL: lwa.URL, HTTP: lwa.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != "at-1" {
			t.Fatalf("token %v %v", tok, err)
		}
	}
	if grants.Load() != 1 {
		t.Errorf("%d grants for three calls, want 1 (cached)", grants.Load())
	}

	// A token that expires within the early-refresh margin is renewed.
	lifetime = "60"
	ts, _ = NewTokenSource(TokenConfig{ClientID: "cid", ClientSecret: "cs", RefreshToken: "rt", TokenURL: lwa.URL, HTTP: lwa.Client()})
	ts.Token()
	ts.Token()
	if grants.Load() != 3 {
		t.Errorf("%d grants, want a new grant per call while tokens live less than the margin", grants.Load())
	}

	bad, _ := NewTokenSource(TokenConfig{ClientID: "cid", ClientSecret: "wrong-secret-value", RefreshToken: "rt", TokenURL: lwa.URL, HTTP: lwa.Client()})
	_, err = bad.Token()
	if err == nil || strings.Contains(err.Error(), "wrong-secret-value") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("error %v: want LWA's code without the secret", err)
	}
}

func TestNewTokenSourceNeedsCredentials(t *testing.T) {
	if _, err := NewTokenSource(TokenConfig{ClientID: "cid"}); err == nil {
		t.Error("accepted no secret")
	}
	ts, err := NewTokenSource(TokenConfig{AccessToken: "static"})
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := ts.Token(); tok.AccessToken != "static" {
		t.Errorf("token %v", tok)
	}
}

func TestEnumsComeFromAmazonsSchema(t *testing.T) {
	if !ConversionTypes.Has("OFF_AMAZON_PURCHASES") || !CurrencyCodes.Has("EUR") || !CountryCodes.Has("DE") || MatchKeyTypes.Has("IDFA") {
		t.Error("enum sets do not match the schema")
	}
	if err := EventSources.Check("WEB"); err == nil || !strings.Contains(err.Error(), "WEBSITE") {
		t.Errorf("Check error %v should list the allowed values", err)
	}
}

func TestA401RefreshesTheTokenOnceAndRetries(t *testing.T) {
	var grants, calls atomic.Int64
	lwa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-`+string(rune('0'+n))+`","token_type":"bearer","expires_in":3600}`)
	}))
	defer lwa.Close()
	refuseAll := false
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if refuseAll || r.Header.Get("Authorization") == "Bearer at-1" {
			w.WriteHeader(401)
			io.WriteString(w, `{"code":"UNAUTHORIZED","message":"token revoked"}`)
			return
		}
		w.WriteHeader(207)
		io.WriteString(w, `{"success":[{"index":0}],"error":[]}`)
	}))
	defer api.Close()
	ts, _ := NewTokenSource(TokenConfig{ClientID: "c", ClientSecret: "s", RefreshToken: "r", TokenURL: lwa.URL, HTTP: lwa.Client()})
	c := &Client{Endpoint: api.URL, API: V2, ClientID: "c", AccountID: "a", Tokens: ts, HTTP: api.Client()}
	res, err := c.Send(context.Background(), Encode(testEvent("a")))
	if err != nil || res.Status != 207 || grants.Load() != 2 || calls.Load() != 2 {
		t.Fatalf("res %+v err %v grants %d calls %d; want one refresh and one retry", res, err, grants.Load(), calls.Load())
	}
	refuseAll = true
	res, _ = c.Send(context.Background(), Encode(testEvent("a")))
	if res.Status != 401 || calls.Load() != 4 || grants.Load() != 3 {
		t.Errorf("status %d calls %d grants %d: a second 401 must be returned, not retried again", res.Status, calls.Load(), grants.Load())
	}
}

func TestARejectionIsTransientOnlyWhenEveryReasonIs(t *testing.T) {
	cases := []struct {
		r    Rejection
		want bool
	}{
		{Rejection{Errors: []FieldError{{Code: "INTERNAL_ERROR"}}}, true},
		{Rejection{Errors: []FieldError{{Code: "TOO_MANY_REQUESTS"}}}, true},
		{Rejection{Errors: []FieldError{{Code: "HTTP_503"}}}, true},
		{Rejection{Status: 500, Errors: []FieldError{{Code: "SOMETHING"}}}, true},
		{Rejection{Errors: []FieldError{{Code: "INTERNAL_ERROR"}, {Code: "FIELD_VALUE_IS_INVALID"}}}, false},
		{Rejection{Errors: []FieldError{{Code: "HTTP_400"}}}, false},
		{Rejection{}, false},
	}
	for _, c := range cases {
		if got := c.r.Transient(); got != c.want {
			t.Errorf("%+v: Transient() = %v, want %v", c.r, got, c.want)
		}
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The transport may read a request's body after the response came (an
// early answer): the recycled body of a batch must not be given to the
// next batch until the transport has closed it.
func TestABatchBodyIsNotReusedWhileTheTransportStillReadsIt(t *testing.T) {
	var held io.ReadCloser
	answer := func() *http.Response {
		return &http.Response{StatusCode: 207, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"success":[],"error":[]}`))}
	}
	c := client("http://127.0.0.1:1", V2)
	c.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if held == nil {
			held = r.Body // answered before its body is read, which happens later
			return answer(), nil
		}
		_, err := io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return answer(), err
	})}
	first, second := Encode(testEvent("first")), Encode(testEvent("second"))
	if _, err := c.Send(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(held)
	held.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"events":[` + string(first[0]) + `]}`; string(raw) != want {
		t.Errorf("the first batch's body, read after the second batch was sent, is\n%s\nwant\n%s", raw, want)
	}
}

// HTTP/2's transport closes a request body from another goroutine than the
// one reading it (an answer above 299 before the upload ended, a timeout),
// and that reader may read once more: it must never get the next batch's
// bytes (each batch has a body of its own).
func TestAClosedBatchBodyReadsNothing(t *testing.T) {
	var stale io.ReadCloser
	c := client("http://127.0.0.1:1", V2)
	c.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if stale == nil {
			stale = r.Body // closed before it was read; the writer reads it later
		} else {
			io.Copy(io.Discard, r.Body)
		}
		r.Body.Close()
		return &http.Response{StatusCode: 429, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`))}, nil
	})}
	for _, id := range []string{"first", "second"} { // the second batch may get the first one's buffer
		if _, err := c.Send(context.Background(), Encode(testEvent(id))); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 4096)
	n, _ := stale.Read(buf)
	if strings.Contains(string(buf[:n]), `"second"`) {
		t.Errorf("a read of the first batch's closed body gave the second batch's bytes: %s", buf[:n])
	}
}

// endless is an answer body that never ends, counting what was read of it.
type endless struct{ read atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.read.Add(int64(len(p)))
	return len(p), nil
}

func (*endless) Close() error { return nil }

type answerWith struct {
	status int
	body   io.ReadCloser
}

func (a answerWith) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Header: http.Header{}, Body: a.body, Request: r, ContentLength: -1}, nil
}

// TestAnErrorAnswerIsReadOnlyAsFarAsItsMessageNeeds: an Amazon (or a proxy
// before it) answering an error with a huge body costs 64 KiB of reading,
// not 4 MiB per call; a 2xx answer is read up to 4 MiB (a 207 lists every
// event).
func TestAnErrorAnswerIsReadOnlyAsFarAsItsMessageNeeds(t *testing.T) {
	for status, limit := range map[int]int64{503: maxErrorBytes, 207: maxResponseBytes} {
		body := &endless{}
		c := client("http://amazon.invalid", V2)
		c.HTTP = &http.Client{Transport: answerWith{status, body}}
		res, err := c.Send(context.Background(), Encode(testEvent("a")))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != status {
			t.Errorf("status %d, want %d", res.Status, status)
		}
		if got := body.read.Load(); got < limit || got > limit+64<<10 {
			t.Errorf("a %d answer: %d bytes read, want %d (and at most one more read)", status, got, limit)
		}
	}
}
