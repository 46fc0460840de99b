package caddymodule

import (
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// chainProblems are the mistakes of handler order that make an
// amazon_capi block silently useless or wrong.
type chainProblems struct {
	// unreachable are blocks after a handler that always answers (respond,
	// file_server, reverse_proxy, error) in the same chain: they never run.
	unreachable []*Handler
	// last are blocks with no handler after them: every matched request
	// gets an empty 200 from Caddy, and is counted as a conversion.
	last []*Handler
}

// checkChain reads a server's routes in the order Caddy runs them. A route
// with matchers may not run, so only a terminal handler of a route without
// matchers (or a terminal route) ends the chain for what follows.
func checkChain(routes caddyhttp.RouteList) chainProblems {
	var w chainWalk
	w.routes(routes, false)
	w.problems.last = w.waiting
	return w.problems
}

type chainWalk struct {
	problems chainProblems
	// waiting are amazon_capi blocks no handler has followed yet.
	waiting []*Handler
}

// routes walks a route list; blocked says the chain has already ended. It
// reports whether the list always ends the chain.
func (w *chainWalk) routes(list caddyhttp.RouteList, blocked bool) bool {
	for _, r := range list {
		unconditional := len(r.MatcherSets) == 0
		ends := w.handlers(r.Handlers, blocked)
		if unconditional && (ends || r.Terminal) {
			blocked = true
		}
	}
	return blocked
}

// handlers walks one route's handlers, each wrapping the next.
func (w *chainWalk) handlers(list []caddyhttp.MiddlewareHandler, blocked bool) bool {
	for _, h := range list {
		switch h := h.(type) {
		case *Handler:
			if blocked {
				w.problems.unreachable = append(w.problems.unreachable, h)
			} else {
				w.waiting = append(w.waiting, h)
			}
		case *caddyhttp.Subroute:
			blocked = w.routes(h.Routes, blocked) || blocked
		default:
			if !blocked {
				w.waiting = w.waiting[:0] // something runs after the waiting blocks
			}
			blocked = blocked || answers(h)
		}
	}
	return blocked
}

// answers reports whether a handler always answers, calling no next one.
func answers(h caddyhttp.MiddlewareHandler) bool {
	switch h := h.(type) {
	case *caddyhttp.StaticResponse, *caddyhttp.StaticError, *reverseproxy.Handler:
		return true
	case *fileserver.FileServer:
		return !h.PassThru
	}
	return false
}
