package caddymodule

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// noNetwork is a listener that counts connections: endpoints pointed at it
// show whether loading a config touched the network.
func noNetwork(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return "http://" + l.Addr().String(), &n
}

func moduleCaddyfile(endpoint, spool, event string) string {
	return fmt.Sprintf(`{
	admin off
	auto_https off
	persist_config off
}
http://127.0.0.1:1 {
	amazon_capi {
		endpoint      %[1]s
		token_url     %[1]s/auth/o2/token
		account_id    ACCT
		client_id     cid
		client_secret {env.AMAZON_CAPI_TEST_SECRET}
		refresh_token {file.%[2]s/refresh_token}
		spool         %[2]s
		event purchase {
			match {
				path /checkout
			}
%[3]s
		}
	}
	respond "ok"
}
`, endpoint, spool, event)
}

const goodEvent = `			type OFF_AMAZON_PURCHASES
			currency USD
			country US
			value body.total
			match_key EMAIL body.email`

func TestMistakesFailAdaptNamingEventFieldAndLine(t *testing.T) {
	endpoint, conns := noNetwork(t)
	cases := []struct{ name, event, want string }{
		{"bad path", strings.Replace(goodEvent, "body.total", "body.items.#(qty>1", 1), `field value: path "body.items.#(qty>1": unclosed`},
		{"unknown modifier", strings.Replace(goodEvent, "body.total", "body.items.#.qty|@summ", 1), "unknown modifier @summ"},
		{"unknown type", strings.Replace(goodEvent, "OFF_AMAZON_PURCHASES", "PURCHASE", 1), `field type: "PURCHASE" is not a valid ConversionType`},
		{"unknown source", goodEvent + "\n\t\t\tsource WEB", `field source: "WEB" is not a valid EventSource`},
		{"unknown match key type", strings.Replace(goodEvent, "EMAIL", "MAIL", 1), `field match_key[0]: "MAIL" is not a valid MatchKeyType`},
		{"unknown currency", strings.Replace(goodEvent, "currency USD", "currency DOLLAR", 1), `field currency: "DOLLAR" is not a valid CurrencyCode`},
		{"unknown country", strings.Replace(goodEvent, "country US", "country USA", 1), `field country: "USA" is not a valid CountryCode`},
		{"missing type", strings.Replace(goodEvent, "type OFF_AMAZON_PURCHASES", "", 1), "field type: is required"},
		{"missing match key", strings.Replace(goodEvent, "match_key EMAIL body.email", "", 1), "field match_key: at least one is required"},
		{"unknown field", goodEvent + "\n\t\t\tvalu body.total", `unknown field "valu" in event "purchase"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(moduleCaddyfile(endpoint, t.TempDir(), c.event)), nil)
			if err == nil {
				t.Fatal("adapted, want an error")
			}
			for _, want := range []string{c.want, `"purchase"`, "Caddyfile:"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
	if conns.Load() != 0 {
		t.Errorf("adapting opened %d connections", conns.Load())
	}
}

// validate adapts a Caddyfile and runs Caddy's validation (provisioning
// every module) without starting servers, like `caddy validate`.
func validate(t *testing.T, caddyfile string) error {
	t.Helper()
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
	if err != nil {
		return err
	}
	return validateJSON(adapted)
}

func validateJSON(raw []byte) error {
	var cfg caddy.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	return caddy.Validate(&cfg)
}

func TestValidateReadsSecretsFromPlaceholdersWithoutNetwork(t *testing.T) {
	endpoint, conns := noNetwork(t)
	spool := t.TempDir()
	if err := os.WriteFile(filepath.Join(spool, "refresh_token"), []byte("Atzr|secret-refresh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AMAZON_CAPI_TEST_SECRET", "very-secret-value")
	if err := validate(t, moduleCaddyfile(endpoint, spool, goodEvent)); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if conns.Load() != 0 {
		t.Errorf("validating opened %d connections", conns.Load())
	}

	t.Setenv("AMAZON_CAPI_TEST_SECRET", "")
	err := validate(t, moduleCaddyfile(endpoint, spool, goodEvent))
	if err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Fatalf("validate with the secret unset: %v, want an error naming client_secret", err)
	}
	if strings.Contains(err.Error(), "secret-refresh") {
		t.Errorf("the error prints a secret: %v", err)
	}
}

func TestValidateChecksJSONConfigsToo(t *testing.T) {
	endpoint, _ := noNetwork(t)
	spool := t.TempDir()
	t.Setenv("AMAZON_CAPI_TEST_SECRET", "s")
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(moduleCaddyfile(endpoint, spool, goodEvent)), nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(spool, "refresh_token"), []byte("r"), 0o600)
	bad := strings.Replace(string(adapted), `"type":"OFF_AMAZON_PURCHASES"`, `"type":"BUY"`, 1)
	err = validateJSON([]byte(bad))
	if err == nil || !strings.Contains(err.Error(), `event "purchase", field type`) {
		t.Fatalf("got %v, want an error naming the event and the field", err)
	}
}
