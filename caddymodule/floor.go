//go:build !benchfloor

package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// floorServe is bench/floor.sh's hook, real only in a build with the
// benchfloor tag (floor_benchfloor.go), where it serves a matched request
// through one layer of the real path. In every other build it does nothing
// and compiles away.
func floorServe(*Handler, http.ResponseWriter, *http.Request, caddyhttp.Handler) (bool, error) {
	return false, nil
}
