//go:build benchfloor

package caddymodule

import (
	"encoding/json"
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
//	burn    a control: nothing after the matcher but a spin of pure CPU,
//	        AMAZON_CAPI_FLOOR_BURN long (default 10µs; calibrated when
//	        Caddy starts), to tell what any added work costs the site from
//	        what the module's own work costs it
//
// The ready event is the first request's own, built by the real mapping.
func init() {
	layer := os.Getenv("AMAZON_CAPI_FLOOR")
	switch layer {
	case "", "full":
		return
	case "match", "tee", "encode", "spool":
	case "burn":
		floorHook = burnHook(os.Getenv("AMAZON_CAPI_FLOOR_BURN"))
		return
	default:
		panic(fmt.Sprintf("AMAZON_CAPI_FLOOR=%q: want match, tee, encode, spool, full or burn", layer))
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
		releaseView(view)
		if layer == "tee" {
			return next.ServeHTTP(w, r)
		}
		e := ready
		e.EventID = mapping.NewEventID()
		if layer == "encode" { // as Enqueue does, into a recycled buffer
			buf := bufs.Get().(*[]byte)
			raw, _ := json.Marshal(&e)
			*buf = append((*buf)[:0], raw...)
			bufs.Put(buf)
		} else {
			h.dest.enqueue(e, true) // a fresh ID, as the real path for a mapping without dedupe_id
		}
		return next.ServeHTTP(w, r)
	}
}

// burnHook spins for the duration d names (default 10µs) before the next
// handler: arithmetic only, no memory, no system call, a fixed number of
// rounds calibrated once so that descheduling does not shorten it.
func burnHook(d string) func(*Handler, http.ResponseWriter, *http.Request, caddyhttp.Handler) error {
	want := 10 * time.Microsecond
	if d != "" {
		var err error
		if want, err = time.ParseDuration(d); err != nil {
			panic(fmt.Sprintf("AMAZON_CAPI_FLOOR_BURN=%q: %v", d, err))
		}
	}
	const probe = 50_000_000
	start := time.Now()
	if spin(probe) == 0 {
		panic("xorshift reached 0")
	}
	rounds := int(float64(probe) * float64(want) / float64(time.Since(start)))
	fmt.Fprintf(os.Stderr, "floor burn: %v is %d rounds\n", want, rounds)
	return func(_ *Handler, w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
		if spin(rounds) == 0 { // never: it keeps the loop from being optimized away
			panic("xorshift reached 0")
		}
		return next.ServeHTTP(w, r)
	}
}

// spin runs n rounds of xorshift.
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
