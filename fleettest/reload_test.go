package fleettest

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

// loadFleetSite loads an in-process Caddy whose site sends through NATS,
// its answer text and nats option as given.
func loadFleetSite(t *testing.T, amazon, spool string, port int, answer, natsOption string) error {
	t.Helper()
	config := fmt.Sprintf(`{
	admin off
	persist_config off
	log default {
		level ERROR
	}
}
http://127.0.0.1:%[4]d {
	amazon_capi {
		endpoint      %[1]s
		token_url     %[1]s/auth/o2/token
		account_id    RELOAD
		client_id     c
		client_secret s
		refresh_token r
		spool         %[2]s
		%[5]s
		event purchase {
			match {
				path /checkout
			}
			type      OFF_AMAZON_PURCHASES
			currency  USD
			country   US
			match_key FIP request.remote_ip
		}
	}
	respond %[3]q
}`, amazon, spool, answer, port, natsOption)
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(config), nil)
	if err != nil {
		t.Fatal(err)
	}
	return caddy.Load(adapted, true)
}

// Reloads keep one destination, one NATS connection and its goroutines;
// a reload that changes the nats option is refused (it takes a restart);
// stopping Caddy closes the connection and its goroutines.
func TestReloadsKeepOneConnectionAndNoGoroutineGrows(t *testing.T) {
	ns := startNATS(t)
	amazon := httptest.NewServer(sandbox.New(sandbox.Config{AccountID: "RELOAD"}))
	defer amazon.Close()
	spool, port := filepath.Join(t.TempDir(), "spool"), freePort(t)
	option := "nats " + ns.url()
	if err := loadFleetSite(t, amazon.URL, spool, port, "v0", option); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the destination's connection", 10*time.Second, func() bool { return ns.NumClients() == 1 })
	waitFor(t, "the streams and the consumer", 10*time.Second, func() bool { return streamsMade(ns) })
	loaded := runtime.NumGoroutine()
	for i := 1; i <= 10; i++ {
		if err := loadFleetSite(t, amazon.URL, spool, port, fmt.Sprint("v", i), option); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
	}
	if n := ns.NumClients(); n != 1 {
		t.Errorf("%d NATS connections after 10 reloads, want 1", n)
	}
	if !eventually(10*time.Second, func() bool { return runtime.NumGoroutine() <= loaded+3 }) {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after 10 reloads, %d after the first load:\n%s", runtime.NumGoroutine(), loaded, buf[:runtime.Stack(buf, true)])
	}
	err := loadFleetSite(t, amazon.URL, spool, port, "v11", option+" {\n\t\t\tstream OTHER\n\t\t}")
	if err == nil || !strings.Contains(err.Error(), "nats changed for a destination that is in use") {
		t.Errorf("a reload that changes nats: %v, want it refused until a restart", err)
	}
	if err := caddy.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the connection to close", 10*time.Second, func() bool { return ns.NumClients() == 0 })
	// The NATS server, in this process, keeps its own; the module's and
	// the NATS client's must be gone.
	if !eventually(10*time.Second, func() bool {
		return !strings.Contains(allStacks(), "shopsignal/caddy-amazon-capi/") && !strings.Contains(allStacks(), "nats-io/nats%2ego")
	}) {
		t.Fatalf("goroutines left after Caddy stopped:\n%s", allStacks())
	}
}

// allStacks is every goroutine's stack, but the test's own.
func allStacks() string {
	buf := make([]byte, 1<<20)
	stacks := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
	var out []string
	for _, st := range stacks {
		if !strings.Contains(st, "TestReloadsKeepOneConnectionAndNoGoroutineGrows") && !strings.Contains(st, "testing.(*M)") {
			out = append(out, st)
		}
	}
	return strings.Join(out, "\n\n")
}

func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// streamsMade reports whether the destination's two streams and its
// consumer exist.
func streamsMade(ns *natsServer) bool {
	acc, err := ns.LookupAccount("$G")
	if err != nil {
		return false
	}
	u := acc.JetStreamUsage()
	return u.Streams == 2 && u.Consumers == 1
}
