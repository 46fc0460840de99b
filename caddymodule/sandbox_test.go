package caddymodule

import "github.com/shopsignal/caddy-amazon-capi/sandbox"

// The tests' Amazon is the sandbox handler, which a production build of the
// module leaves out (package caddysandbox adds it to a build).
func init() { sandbox.Register() }
