// Package caddyamazoncapi registers the caddy-amazon-capi modules with Caddy:
// the amazon_capi handler, which turns selected requests into Amazon Ads
// Conversions API events, and the amazon_capi_sandbox handler, a local
// stand-in for Amazon. Import it (or build with
// `xcaddy build --with github.com/shopsignal/caddy-amazon-capi`) to add them.
//
// The code lives in the sub-packages: caddymodule (Caddy glue), mapping,
// amazon, forward and sandbox.
package caddyamazoncapi

import (
	// The modules register themselves in init.
	_ "github.com/shopsignal/caddy-amazon-capi/caddymodule"
)
