package caddymodule

import (
	"bytes"
	"encoding/json"
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
