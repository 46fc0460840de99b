// Package caddymodule is the Caddy glue of caddy-amazon-capi, and only
// that: it reads the Caddyfile, holds the state that outlives a reload, and
// hands requests to the plain Go packages that do the work (mapping:
// request → event; forward: spool and delivery; amazon: the wire format and
// the client). It holds no Amazon wire type, retry rule or mapping
// language of its own.
//
// Its files, by prefix:
//
//   - handler*.go: the HTTP handler http.handlers.amazon_capi (Caddyfile
//     directive amazon_capi): matching an event, teeing the body, handing
//     out event IDs, building events after the answer when they need it,
//     the click-token cookie.
//   - config*.go: the Caddyfile and the JSON config: Handler's options, a
//     block's Destination (what the config says) and its settings.
//   - lifecycle*.go: what outlives a config: the liveDestination (the
//     running side of a Destination: its forwarder, spool, client and
//     counters) in a Caddy usage pool keyed by destination, the
//     amazon_capi app that opens the spools when a config starts, the
//     hand-over of an event built by a request an old config still served,
//     and the logger that follows the newest config.
//   - admin*.go: Caddy's admin endpoint routes (/amazon_capi/…), the status
//     page, match quality, the reconciliation and the Prometheus metrics.
//   - cli*.go: the caddy amazon-capi commands (try, accounts).
//
// The sandbox's handler, a local stand-in for Amazon, is not here: package
// sandbox has it, and package sandbox/caddysandbox adds it to a build.
package caddymodule
