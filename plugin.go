// Package caddyamazoncapi registers the amazon_capi handler with Caddy: it
// turns selected requests into Amazon Ads Conversions API events. Import it
// (or build with `xcaddy build --with github.com/shopsignal/caddy-amazon-capi`)
// to add it. The sandbox, a local stand-in for Amazon, is not part of it:
// package sandbox/caddysandbox adds both.
//
// The code lives in the sub-packages: caddymodule (Caddy glue), mapping,
// amazon, forward and sandbox.
package caddyamazoncapi

import (
	// The modules register themselves in init.
	_ "github.com/shopsignal/caddy-amazon-capi/caddymodule"
)
