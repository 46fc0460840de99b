package fleettest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"

	_ "github.com/shopsignal/caddy-amazon-capi"
	"github.com/shopsignal/caddy-amazon-capi/fleet"
	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

// benchCheckout is the 1 KiB checkout of the module's own benchmarks.
var benchCheckout = `{"order":{"id":"%d","total":"129.95","currency":"USD"},"customer":{"email":"Jane.Doe@example.com","phone":"+1 206 555 0100"},"shipping":{"country":"US"},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"note":"` + strings.Repeat("x", 700) + `"}`

// loadCheckoutSite loads a Caddy config (as `caddy run` would, its
// logging at ERROR so that the benchmarks' result lines stay alone on
// stdout) whose site's /checkout is a purchase sent to amazon, through
// NATS when natsURL is set, and returns the site's server. Requests go
// straight to the server's ServeHTTP: Caddy's routing and the module,
// no sockets.
func loadCheckoutSite(b *testing.B, amazon, natsURL string) http.Handler {
	option := ""
	if natsURL != "" {
		option = "nats " + natsURL
	}
	config := fmt.Sprintf(`{
	admin off
	persist_config off
	log default {
		level ERROR
	}
}
http://:%[4]d {
	amazon_capi {
		endpoint      %[1]s
		token_url     %[1]s/auth/o2/token
		account_id    BENCH
		client_id     c
		client_secret s
		refresh_token r
		spool         %[2]s
		%[3]s
		event purchase {
			match {
				method POST
				path /checkout
			}
			type      OFF_AMAZON_PURCHASES
			dedupe_id body.order.id
			value     body.order.total
			currency  body.order.currency
			units_sold body.items.#.qty|@sum
			country   body.shipping.country
			match_key EMAIL body.customer.email
			match_key PHONE body.customer.phone
			match_key FIP request.remote_ip
		}
	}
	respond "ok"
}`, amazon, filepath.Join(b.TempDir(), "spool"), option, freePort(b))
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(config), nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := caddy.Load(adapted, true); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = caddy.Stop() })
	app, err := caddy.ActiveContext().App("http")
	if err != nil {
		b.Fatal(err)
	}
	for _, srv := range app.(*caddyhttp.App).Servers {
		return srv
	}
	b.Fatal("no server")
	return nil
}

// BenchmarkServeHTTPCheckoutFleet is a matched checkout through Caddy's
// server, with and without fleet mode, delivered to the sandbox as Amazon:
// the request path, the spool and, on other goroutines, delivery (and in
// fleet mode shipping and the NATS server, in this process). Run it with
// -cpu 1, so that every goroutine's CPU is in ns/op; the timer runs until
// Amazon has every event. The figure to read is fleet / single.
func BenchmarkServeHTTPCheckoutFleet(b *testing.B) {
	sb := sandbox.New(sandbox.Config{AccountID: "BENCH", Keep: 1000})
	amazon := httptest.NewServer(sb)
	defer amazon.Close()
	for _, mode := range []string{"single", "fleet"} {
		b.Run(mode, func(b *testing.B) {
			natsURL := ""
			var ns *natsServer
			if mode == "fleet" {
				ns = startNATS(b)
				natsURL = ns.url()
			}
			site := loadCheckoutSite(b, amazon.URL, natsURL)
			delivered := sb.Stats().Accepted
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				r := httptest.NewRequest(http.MethodPost, "/checkout", strings.NewReader(fmt.Sprintf(benchCheckout, i)))
				r.RemoteAddr = "203.0.113.9:5555"
				w := httptest.NewRecorder()
				site.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			waitFor(b, "Amazon to take every event", 5*time.Minute, func() bool { return sb.Stats().Accepted-delivered >= i })
			if ns != nil { // and JetStream to have every acknowledgement: the stream empties
				waitFor(b, "the stream to empty", time.Minute, func() bool { return streamMessages(ns) == 0 })
			}
		})
	}
}

// BenchmarkFleetDelivery is the fleet's delivery throughput: events/s from
// the stream through 1 or 3 replicas' deliverers to a sink, the stream
// filled beforehand. The consumer lets two batches be out at once
// whatever the number of replicas (the fleet calls Amazon at one
// destination's pace), so more replicas do not deliver faster: they
// share the work and take over from each other.
func BenchmarkFleetDelivery(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			ns := startNATS(b)
			cfg := fleet.Config{URLs: []string{ns.url()}}
			spec := fleet.Spec{DedupeWindow: 2 * time.Minute, MaxAge: time.Hour, BatchSize: 500, RequestTimeout: 5 * time.Second, FlushInterval: 20 * time.Millisecond}
			names := fleet.NamesFor(cfg, "BENCH", "delivery")
			filler, err := fleet.Open(cfg, names, spec, "filler")
			if err != nil {
				b.Fatal(err)
			}
			defer filler.Close()
			fill(b, filler.Shipper(), b.N)
			a := newFakeAmazon()
			b.ResetTimer()
			start, cpu := time.Now(), processCPU()
			var stops []func()
			for range replicas {
				q, err := fleet.Open(cfg, names, spec, "replica")
				if err != nil {
					b.Fatal(err)
				}
				d := q.Deliverer(a, zap.NewNop())
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); d.Run(ctx) }()
				stops = append(stops, func() { cancel(); <-done; q.Close() })
			}
			a.awaitTaken(b, b.N, 10*time.Minute)
			elapsed, used := time.Since(start), processCPU()-cpu
			b.StopTimer()
			for _, stop := range stops {
				stop()
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/event")
		})
	}
}

// fill ships n events into the stream.
func fill(b *testing.B, s *fleet.Shipper, n int) {
	for start := 0; start < n; start += 500 {
		var batch []json.RawMessage
		for i := start; i < min(n, start+500); i++ {
			raw, err := json.Marshal(purchase(fmt.Sprintf("bench-%d", i)))
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, raw)
		}
		res, err := s.Send(context.Background(), batch)
		if err != nil || res.Accepted != len(batch) {
			b.Fatalf("filling the stream: %v %+v", err, res)
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// streamMessages counts the messages in the server's streams.
func streamMessages(ns *natsServer) uint64 {
	info, err := ns.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return 1
	}
	return info.Messages
}
