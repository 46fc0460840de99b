// Package caddysandbox adds the sandbox, a local stand-in for Amazon's
// Conversions API, to a Caddy build, with the amazon_capi handler it
// stands in for Amazon for. It is for trying the module and for its demo,
// not for a shop's production build:
//
//	xcaddy build --with github.com/shopsignal/caddy-amazon-capi/sandbox/caddysandbox
//
// builds Caddy with amazon_capi and amazon_capi_sandbox, where
// --with github.com/shopsignal/caddy-amazon-capi builds it with amazon_capi
// alone.
package caddysandbox

import (
	_ "github.com/shopsignal/caddy-amazon-capi" // amazon_capi
	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

func init() { sandbox.Register() }
