package caddymodule

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if len(res) != 1 || res[0].Site != "shop-a.example" || res[0].Destination != "A@advertising-api.amazon.com" || res[0].Outcome != "sent" {
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
