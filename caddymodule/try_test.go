package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func runTry(t *testing.T, in TryInput) []TryResult {
	t.Helper()
	var out bytes.Buffer
	if err := TryMapping(&out, in); err != nil {
		t.Fatal(err)
	}
	var results []TryResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return results
}

func TestTheMappingTesterOnTheDemo(t *testing.T) {
	res := runTry(t, TryInput{Config: "../Caddyfile.example", Request: "../demo/checkout.http", RemoteIP: "203.0.113.10"})
	if len(res) != 1 || res[0].Event != "checkout" || res[0].Outcome != "sent" || res[0].Valid == nil || !*res[0].Valid {
		t.Fatalf("results %+v", res)
	}
	var compact bytes.Buffer
	json.Compact(&compact, res[0].Body)
	body := compact.String()
	for _, want := range []string{`"eventId":"ORD-1001"`, `"value":25.9`, `"options":"LIMITED_DATA_USE"`, `"values":["203.0.113.10"]`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "jane") {
		t.Errorf("raw email in the output: %s", body)
	}
}

func TestTheMappingTesterReadsTheResponse(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(strings.ReplaceAll(text, "\n", "\r\n")), 0o600)
		return p
	}
	cfg := write("Caddyfile", `{
	admin off
}
:8080 {
	amazon_capi {
		account_id A
		dry_run
		event purchase {
			match {
				method POST
			}
			when_response {
				status 2xx
			}
			type      OFF_AMAZON_PURCHASES
			currency  USD
			dedupe_id response.body.order_id
			country   DE
			match_key EMAIL body.email
		}
	}
	respond "ok"
}
`)
	req := write("req.http", "POST /api/checkout HTTP/1.1\nHost: shop\nContent-Type: application/json\nContent-Length: 23\n\n{\"email\":\"a@b.example\"}")
	ok := write("ok.http", "HTTP/1.1 201 Created\nContent-Type: application/json\nContent-Length: 21\n\n{\"order_id\":\"SHOP-9\"}")
	declined := write("no.http", "HTTP/1.1 402 Payment Required\nContent-Length: 0\n\n")
	res := runTry(t, TryInput{Config: cfg, Request: req, Response: ok, RemoteIP: "203.0.113.10"})
	if len(res) != 1 || res[0].Outcome != "sent" || !strings.Contains(string(res[0].Body), `"SHOP-9"`) {
		t.Errorf("with a 201: %+v", res)
	}
	if res := runTry(t, TryInput{Config: cfg, Request: req, Response: declined, RemoteIP: "203.0.113.10"}); res[0].Outcome != "not_sent_response" {
		t.Errorf("with a 402: %+v", res)
	}
	if res := runTry(t, TryInput{Config: cfg, Request: req, RemoteIP: "203.0.113.10"}); res[0].Outcome != "needs_response" {
		t.Errorf("without a response: %+v", res)
	}
}

// twoShops is a config with an amazon_capi block in each of two sites.
const twoShops = `{
	admin off
}
http://shop-a.example {
	amazon_capi {
		account_id A
		dry_run
		event signup {
			type      SIGN_UP
			country   body.country
			match_key EMAIL body.email
			match_key POSTAL body.zip
			match_key PHONE body.phone
		}
	}
	respond "ok"
}
http://shop-b.example {
	amazon_capi {
		account_id B
		dry_run
		event signup {
			type      SIGN_UP
			country   GB
			match_key EMAIL body.email
		}
	}
	respond "ok"
}
`

func TestTheMappingTesterRunsTheBlocksOfTheRequestsSiteAndShowsWhatItDropped(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "Caddyfile")
	os.WriteFile(cfg, []byte(twoShops), 0o600)
	// No Content-Length, as people write a request by hand: the body is
	// the rest of the file.
	req := filepath.Join(dir, "req.http")
	os.WriteFile(req, []byte("POST /signup HTTP/1.1\r\nHost: shop-a.example\r\nContent-Type: application/json\r\n\r\n"+
		`{"email":"Jane.Doe@Example.com","zip":"9810","phone":"(206) 555-0100","country":"US"}`+"\n"), 0o600)

	res := runTry(t, TryInput{Config: cfg, Request: req, RemoteIP: "203.0.113.10", ShowNormalized: true})
	if len(res) != 1 || res[0].Site != "shop-a.example" || !strings.HasPrefix(res[0].Destination, "A@advertising-api.amazon.com") || res[0].Outcome != "sent" {
		t.Fatalf("results %+v", res)
	}
	if d := res[0].DroppedKeys; len(d) != 1 || d[0].Type != "POSTAL" || d[0].Reason != "invalid_postal" {
		t.Errorf("dropped %+v, want the four-digit US ZIP as invalid_postal", d)
	}
	normalized := map[string]string{}
	for _, n := range res[0].Normalized {
		normalized[n.Type] = n.Normalized
	}
	if normalized["EMAIL"] != "jane.doe@example.com" || normalized["PHONE"] != "12065550100" {
		t.Errorf("normalized %v", normalized)
	}
	plain := runTry(t, TryInput{Config: cfg, Request: req, RemoteIP: "203.0.113.10"})
	if len(plain[0].Normalized) != 0 || strings.Contains(string(plain[0].Body), "jane") {
		t.Errorf("normalized values shown without --show-normalized: %+v", plain[0])
	}
}

func TestTheMappingTesterWantsARequest(t *testing.T) {
	err := TryMapping(io.Discard, TryInput{Config: "../Caddyfile.example"})
	if err == nil || !strings.Contains(err.Error(), "--request is required") {
		t.Errorf("got %v", err)
	}
}

// tryFiles writes a config and a request (lines joined with CRLF) into a
// temporary directory and returns the TryInput for them.
func tryFiles(t *testing.T, config, request string) TryInput {
	t.Helper()
	dir := t.TempDir()
	cfg, req := filepath.Join(dir, "Caddyfile"), filepath.Join(dir, "req.http")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(req, []byte(strings.ReplaceAll(request, "\n", "\r\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return TryInput{Config: cfg, Request: req, RemoteIP: "203.0.113.10"}
}

func TestTheMappingTesterSendsTheClickTokensOfTheClickTokenCookie(t *testing.T) {
	// The live handler sends the click_token cookie's pairs that are
	// within max_age as arefMeasurementTokens; try must show the same.
	const config = `{
	admin off
}
http://shop.example {
	amazon_capi {
		account_id A
		dry_run
		click_token ad_click {
			max_age 1h
		}
		event signup {
			match {
				path /signup
			}
			type      SIGN_UP
			country   US
			match_key EMAIL body.email
		}
	}
	respond "ok"
}
`
	now := time.Now()
	fresh := fmt.Sprintf("AbCdEf1234.%d", now.Add(-time.Minute).UnixMilli())
	stale := fmt.Sprintf("ZyXwVu9876.%d", now.Add(-2*time.Hour).UnixMilli())
	in := tryFiles(t, config, "POST /signup HTTP/1.1\nHost: shop.example\nContent-Type: application/json\n"+
		"Cookie: ad_click="+stale+"|"+fresh+"\n\n"+`{"email":"a@b.example"}`)
	res := runTry(t, in)
	if len(res) != 1 || res[0].Outcome != "sent" || res[0].Valid == nil || !*res[0].Valid {
		t.Fatalf("results %+v", res)
	}
	var body struct {
		Aref string `json:"arefMeasurementTokens"`
	}
	json.Unmarshal(res[0].Body, &body)
	if body.Aref != fresh {
		t.Errorf("arefMeasurementTokens %q, want the fresh pair %q alone: %s", body.Aref, fresh, res[0].Body)
	}
}

func TestTheMappingTesterListsEveryFieldOfAnInvalidEvent(t *testing.T) {
	const config = `{
	admin off
}
http://shop.example {
	amazon_capi {
		account_id A
		dry_run
		event purchase {
			type       OFF_AMAZON_PURCHASES
			country    body.country
			currency   body.currency
			value      body.total
			units_sold body.qty
			match_key  EMAIL body.email
		}
	}
	respond "ok"
}
`
	in := tryFiles(t, config, "POST /checkout HTTP/1.1\nHost: shop.example\nContent-Type: application/json\n\n"+
		`{"email":"a@b.example","country":"US","currency":"DOLLARS","total":"lots","qty":1.5}`)
	res := runTry(t, in)
	if len(res) != 1 || res[0].Outcome != "invalid" {
		t.Fatalf("results %+v", res)
	}
	var fields []string
	for _, f := range res[0].InvalidFields {
		if f.Reason == "" {
			t.Errorf("%s has no reason", f.Field)
		}
		fields = append(fields, f.Field)
	}
	if got := strings.Join(fields, " "); got != "currency value units_sold" {
		t.Errorf("invalid fields %q, want currency, value and units_sold: %+v", got, res[0].InvalidFields)
	}
	if !strings.Contains(res[0].Reason, "field currency") {
		t.Errorf("reason %q, want the first field", res[0].Reason)
	}
	for _, secret := range []string{"DOLLARS", "lots"} {
		if b, _ := json.Marshal(res); strings.Contains(string(b), secret) {
			t.Errorf("the output quotes the request's value %q: %s", secret, b)
		}
	}
}

func TestTheMappingTesterSaysWhyNothingWouldBeSent(t *testing.T) {
	try := func(in TryInput) (string, *NoEventError) {
		t.Helper()
		var out bytes.Buffer
		err := TryMapping(&out, in)
		var none *NoEventError
		if !errors.As(err, &none) {
			t.Fatalf("error %v, want a NoEventError", err)
		}
		if strings.TrimSpace(out.String()) != "[]" {
			t.Errorf("output %q, want []", out.String())
		}
		return none.Error(), none
	}

	// A Host no site serves: the Host and the sites are named.
	in := tryFiles(t, twoShops, "POST /signup HTTP/1.1\nHost: shop-c.example\n\n{}")
	msg, _ := try(in)
	for _, want := range []string{`Host "shop-c.example"`, "shop-a.example", "shop-b.example"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not name %s", msg, want)
		}
	}

	// A site serves the Host, but no event's matchers match: the events
	// are named.
	in.Config = "../Caddyfile.example"
	os.WriteFile(in.Request, []byte("GET /about HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"), 0o600)
	msg, none := try(in)
	for _, want := range []string{"GET /about", "checkout", "add_to_cart"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not name %s", msg, want)
		}
	}
	if len(none.Events) != 2 {
		t.Errorf("events %q", none.Events)
	}
}

// snakeCase is how try's own JSON keys are spelled (the body is
// Amazon's wire format and keeps Amazon's spelling).
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// checkKeys reports every key of v, outside the sent body, that is not
// snake_case.
func checkKeys(t *testing.T, where string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if !snakeCase.MatchString(k) {
				t.Errorf("%s: key %q is not snake_case", where, k)
			}
			if k != "body" {
				checkKeys(t, where+"."+k, c)
			}
		}
	case []any:
		for i, c := range v {
			checkKeys(t, fmt.Sprintf("%s[%d]", where, i), c)
		}
	}
}

func TestTheMappingTesterWritesSnakeCaseKeysOnly(t *testing.T) {
	const config = `{
	admin off
}
http://shop.example {
	amazon_capi {
		account_id A
		dry_run
		event old_signup {
			match {
				path /old
			}
			type      SIGN_UP
			country   US
			timestamp body.at
			match_key EMAIL body.email
			match_key PHONE body.phone
			custom    brand body.brand
		}
		event bad_signup {
			match {
				path /old
			}
			type      SIGN_UP
			country   body.country
			value     body.total
			match_key EMAIL body.email
		}
	}
	respond "ok"
}
`
	// old_signup is built with a dropped match key, a dropped custom
	// attribute and a time the validator refuses; bad_signup is invalid.
	in := tryFiles(t, config, "POST /old HTTP/1.1\nHost: shop.example\nContent-Type: application/json\n\n"+
		`{"email":"a@b.example","phone":"12","brand":"!!!","at":"2020-01-02T03:04:05Z","country":"Nowhere","total":"x"}`)
	in.ShowNormalized = true
	var out bytes.Buffer
	if err := TryMapping(&out, in); err != nil {
		t.Fatal(err)
	}
	var results []map[string]any
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, r := range results {
		for k := range r {
			seen[k] = true
		}
		checkKeys(t, fmt.Sprintf("result[%d]", i), r)
	}
	for _, k := range []string{"dropped_match_keys", "dropped_custom_data", "errors", "invalid_fields", "normalized_match_keys"} {
		if !seen[k] {
			t.Errorf("no result has %s, so its keys went unchecked:\n%s", k, out.String())
		}
	}
}
