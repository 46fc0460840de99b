package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// floorHook is set only in a build with the benchfloor tag (see
// floor_benchfloor.go): it replaces the matched path with one layer of it,
// so that bench/floor.sh can measure what each layer costs in a running
// Caddy. It is nil in every other build.
var floorHook func(h *Handler, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error
