// Command caddy is Caddy with the amazon_capi modules built in, so
// `go run ./cmd/caddy run --config Caddyfile.example` works without xcaddy.
// For production builds, see xcaddy.md.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	// This project's modules, with the sandbox (a local Amazon) for the demo.
	_ "github.com/shopsignal/caddy-amazon-capi/sandbox/caddysandbox"
)

func main() {
	caddycmd.Main()
}
