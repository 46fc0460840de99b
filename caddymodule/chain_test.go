package caddymodule

import (
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/fileserver"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func route(handlers ...caddyhttp.MiddlewareHandler) caddyhttp.Route {
	return caddyhttp.Route{Handlers: handlers}
}

func matched(r caddyhttp.Route) caddyhttp.Route {
	r.MatcherSets = caddyhttp.MatcherSets{{caddyhttp.MatchPath{"/checkout"}}}
	return r
}

func subroute(routes ...caddyhttp.Route) *caddyhttp.Subroute {
	return &caddyhttp.Subroute{Routes: routes}
}

func TestTheChainCheckFindsBlocksThatNeverRunOrHaveNothingAfterThem(t *testing.T) {
	respond := &caddyhttp.StaticResponse{}
	proxy := &reverseproxy.Handler{}
	cases := []struct {
		name               string
		routes             caddyhttp.RouteList
		unreachable, alone bool
	}{
		{"before the site's handler (the Caddyfile's own order)", caddyhttp.RouteList{route(subroute(route(&Handler{}), route(proxy)))}, false, false},
		{"after respond in one route", caddyhttp.RouteList{route(respond, &Handler{})}, true, false},
		{"after an unconditional respond route", caddyhttp.RouteList{route(subroute(route(respond), route(&Handler{})))}, true, false},
		{"after a respond that only some requests reach", caddyhttp.RouteList{matched(route(respond)), route(&Handler{}), route(proxy)}, false, false},
		{"after a terminal route", caddyhttp.RouteList{{Terminal: true, Handlers: []caddyhttp.MiddlewareHandler{&caddyhttp.VarsMiddleware{}}}, route(&Handler{}, proxy)}, true, false},
		{"after a pass-through file_server", caddyhttp.RouteList{route(&fileserver.FileServer{PassThru: true}), route(&Handler{}, proxy)}, false, false},
		{"alone in the site", caddyhttp.RouteList{route(subroute(route(&Handler{})))}, false, true},
		{"followed only in some requests", caddyhttp.RouteList{route(&Handler{}), matched(route(proxy))}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := checkChain(c.routes)
			if got := len(p.unreachable) > 0; got != c.unreachable {
				t.Errorf("unreachable: %v, want %v", got, c.unreachable)
			}
			if got := len(p.last) > 0; got != c.alone {
				t.Errorf("nothing after it: %v, want %v", got, c.alone)
			}
		})
	}
}
