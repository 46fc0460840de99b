package caddymodule

import (
	"bytes"
	"os"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestTheExampleIsCaddyFmtClean: users copy Caddyfile.example; `caddy fmt`
// must not want to change it (Caddy warns about an unformatted Caddyfile at
// every start).
func TestTheExampleIsCaddyFmtClean(t *testing.T) {
	raw, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	if formatted := caddyfile.Format(raw); !bytes.Equal(formatted, raw) {
		t.Errorf("caddy fmt would change Caddyfile.example; run: go run ./cmd/caddy fmt --overwrite Caddyfile.example")
	}
}
