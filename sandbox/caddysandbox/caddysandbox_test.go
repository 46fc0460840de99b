package caddysandbox

import (
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// Importing the package gives a build the module and the sandbox.
func TestItAddsTheModuleAndTheSandbox(t *testing.T) {
	for _, id := range []string{"http.handlers.amazon_capi", "http.handlers.amazon_capi_sandbox"} {
		if _, err := caddy.GetModule(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
