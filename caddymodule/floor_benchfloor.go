//go:build benchfloor

package caddymodule

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// floorHook serves a matched request through the layer AMAZON_CAPI_FLOOR
// picks; nil for the full path.
var floorHook func(h *Handler, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error

// floorServe serves a matched request through floorHook, when set.
func floorServe(h *Handler, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) (bool, error) {
	if floorHook == nil {
		return false, nil
	}
	return true, floorHook(h, w, r, next)
}

// AMAZON_CAPI_FLOOR picks the layer a matched request goes through, each
// one doing more of the real work:
//
//	match   nothing after the matcher
//	tee     + read the body
//	encode  + give a ready event a new ID and encode it (then drop it)
//	spool   + hand it to the forwarder (spool write, delivery)
//	full    the real path (mapping included); also when unset
//
// The ready event is the first request's own, built by the real mapping.
func init() {
	layer := os.Getenv("AMAZON_CAPI_FLOOR")
	switch layer {
	case "", "full":
		return
	case "match", "tee", "encode", "spool":
	default:
		panic(fmt.Sprintf("AMAZON_CAPI_FLOOR=%q: want match, tee, encode, spool or full", layer))
	}
	var (
		once  sync.Once
		ready amazon.Event
		bufs  = sync.Pool{New: func() any { return new([]byte) }}
	)
	floorHook = func(h *Handler, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
		if layer == "match" {
			return next.ServeHTTP(w, r)
		}
		view := h.newView(r, h.Events[:1], time.Now())
		once.Do(func() { ready, _ = h.Events[0].mapping.Evaluate(view) })
		if layer == "tee" {
			return next.ServeHTTP(w, r)
		}
		e := ready
		e.EventID = mapping.NewEventID()
		if layer == "encode" { // as Enqueue does, into a recycled buffer
			buf := bufs.Get().(*[]byte)
			*buf = e.AppendJSON((*buf)[:0])
			bufs.Put(buf)
		} else {
			h.dest.enqueue(e, true) // a fresh ID, as the real path for a mapping without dedupe_id
		}
		return next.ServeHTTP(w, r)
	}
}
