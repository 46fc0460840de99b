package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/internal/testnet"
	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

// freePort returns a loopback port that was free a moment ago and that no
// other test of this process got (see testnet.FreePort).
func freePort(t *testing.T) int {
	port, err := testnet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// built is this command, built once for the package's tests.
var built struct {
	once sync.Once
	dir  string
	bin  string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildCaddy builds this command into a temporary directory, once.
func buildCaddy(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "caddy-amazon-capi-test")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "caddy")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// child is a Caddy process under test.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string // the file its output goes to
}

func startChild(t *testing.T, bin, config string) *child {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", config, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	logs, err := os.Create(config + ".log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{}), log: config + ".log"}
	go func() { cmd.Wait(); logs.Close(); close(c.done) }()
	t.Cleanup(func() { c.kill() })
	return c
}

func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// awaitServing waits until Caddy has started every app of its config
// (its log says "serving initial configuration"). Its admin endpoint
// answers earlier: while the apps are provisioned, before any starts, so
// before the spool is open or the site listens.
func (c *child) awaitServing(t *testing.T) {
	t.Helper()
	waitUntil(t, "Caddy to serve its config", 30*time.Second, func() bool {
		select {
		case <-c.done:
			out, _ := os.ReadFile(c.log)
			t.Fatalf("Caddy exited while starting:\n%s", out)
		default:
		}
		out, _ := os.ReadFile(c.log)
		return bytes.Contains(out, []byte("serving initial configuration"))
	})
}

// status reads the spooled count from the child's admin API.
func spooled(admin int) (int, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/amazon_capi/", admin))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st []struct {
		Forwarder struct {
			Spooled int `json:"spooled"`
		} `json:"forwarder"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &st); err != nil || len(st) != 1 {
		return 0, fmt.Errorf("admin answered %s", raw)
	}
	return st[0].Forwarder.Spooled, nil
}

// reconciliation reads the purchase row of the child's reconciliation.
func reconciliation(admin int) (row struct {
	CarriedOver, Sent, Unaccounted, Pending int
}, err error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/amazon_capi/reconciliation", admin))
	if err != nil {
		return row, err
	}
	defer resp.Body.Close()
	var report []struct {
		Events []struct {
			Event       string `json:"event"`
			CarriedOver int    `json:"carried_over"`
			Sent        int    `json:"sent"`
			Unaccounted int    `json:"unaccounted"`
			Pending     int    `json:"pending"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&report); err != nil {
		return row, err
	}
	for _, d := range report {
		for _, e := range d.Events {
			if e.Event == "purchase" {
				row.CarriedOver, row.Sent, row.Unaccounted, row.Pending = e.CarriedOver, e.Sent, e.Unaccounted, e.Pending
				return row, nil
			}
		}
	}
	return row, fmt.Errorf("no purchase row")
}

// waitUntil polls a condition on another process, which cannot signal us.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNothingIsLostWhenTheProcessIsKilled accepts 10,000 conversions while
// Amazon is down, kills Caddy with SIGKILL, starts it again and brings
// Amazon back: every event arrives, with the event ID it was given.
func TestNothingIsLostWhenTheProcessIsKilled(t *testing.T) {
	killedAndRestarted(t, "")
}

// TestEventsWrittenButNotYetFsyncedSurviveSIGKILL is the same with
// spool_sync 1h: only the spool's first write is fsynced before the kill,
// and an event counts as accepted once written, so the kernel must keep
// the rest.
func TestEventsWrittenButNotYetFsyncedSurviveSIGKILL(t *testing.T) {
	killedAndRestarted(t, "spool_sync     1h")
}

// killedAndRestarted runs the SIGKILL test with option added to the
// amazon_capi block of siteConfig.
func killedAndRestarted(t *testing.T, option string) {
	if testing.Short() {
		t.Skip("builds and runs Caddy")
	}
	const n = 10000
	bin := buildCaddy(t)
	// Amazon (the sandbox) listens throughout, on a port it holds, and is
	// down (503 to every events call) until it comes back below: a port
	// left free for the test's minute could be taken by a test of another
	// package running beside this one.
	sb := sandbox.New(sandbox.Config{AccountID: "CRASH", Keep: 3 * n})
	sb.SetFaults(sandbox.Faults{Status: http.StatusServiceUnavailable})
	amazon := httptest.NewServer(sb)
	defer amazon.Close()
	amazonPort := amazon.Listener.Addr().(*net.TCPAddr).Port
	site, admin := freePort(t), freePort(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "Caddyfile")
	caddyfile := strings.Replace(siteConfig(site, admin, amazonPort, dir+"/spool"), "flush_interval 50ms", "flush_interval 50ms\n\t\t"+option, 1)
	if !strings.Contains(caddyfile, "flush_interval 50ms\n\t\t"+option) {
		t.Fatalf("the option %q did not go into the config:\n%s", option, caddyfile)
	}
	err := os.WriteFile(config, []byte(caddyfile), 0o600)
	if err != nil {
		t.Fatal(err)
	}

	first := startChild(t, bin, config)
	first.awaitServing(t)

	// 10,000 matched requests while Amazon (the sandbox) is down.
	var failed atomic.Int64
	var firstFailure sync.Once
	var failure string
	fail := func(format string, args ...any) {
		failed.Add(1)
		firstFailure.Do(func() { failure = fmt.Sprintf(format, args...) })
	}
	var wg sync.WaitGroup
	orders := make(chan int)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range orders {
				resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/checkout?order=ORD-%d&email=user%d@example.com", site, i, i))
				if err != nil {
					fail("order %d: %v", i, err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					fail("order %d: status %d", i, resp.StatusCode)
				}
			}
		}()
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		orders <- i
	}
	close(orders)
	wg.Wait()
	t.Logf("%d requests answered in %v while Amazon was down (%d failed)", n, time.Since(start).Round(time.Millisecond), failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed; the first: %s", failed.Load(), failure)
	}
	// Accepted means spooled: wait until all are on disk, then kill.
	waitUntil(t, "the events to be spooled", 30*time.Second, func() bool { c, _ := spooled(admin); return c == n })
	first.kill()

	startChild(t, bin, config)
	waitUntil(t, "Caddy to restart", 30*time.Second, func() bool { c, err := spooled(admin); return err == nil && c == n })

	// Amazon comes back.
	sb.SetFaults(sandbox.Faults{})

	waitUntil(t, "every event to reach Amazon", 120*time.Second, func() bool {
		c, err := spooled(admin)
		return err == nil && c == 0
	})
	// The restarted Caddy accounts for the orders the killed one confirmed:
	// carried over from the spool, then sent, none unaccounted.
	waitUntil(t, "the reconciliation to settle", 30*time.Second, func() bool {
		r, err := reconciliation(admin)
		return err == nil && r.Sent == n
	})
	if r, _ := reconciliation(admin); r.CarriedOver != n || r.Unaccounted != 0 || r.Pending != 0 {
		t.Errorf("after the restart: %+v", r)
	}
	counts := map[string]int{}
	for _, r := range sb.Received() {
		if !r.Accepted {
			t.Fatalf("the sandbox rejected %s: %+v", r.EventID, r.Errors)
		}
		counts[r.EventID]++
	}
	twice := 0
	for i := 0; i < n; i++ {
		c := counts[fmt.Sprintf("ORD-%d", i)]
		if c == 0 {
			t.Fatalf("event ORD-%d was lost", i)
		}
		if c > 1 {
			twice++
		}
	}
	t.Logf("all %d events arrived after SIGKILL and restart; %d were sent more than once; %d calls to Amazon", n, twice, sb.Stats().Requests)
	if len(counts) != n || strings.Contains(fmt.Sprint(counts), "@example.com") {
		t.Errorf("%d distinct event IDs", len(counts))
	}
}

// siteConfig is the Caddyfile of these tests: a site whose /checkout is a
// purchase, sent to Amazon at amazonPort, spooled in spool.
func siteConfig(site, admin, amazonPort int, spool string) string {
	return fmt.Sprintf(`{
	admin 127.0.0.1:%[2]d
	persist_config off
	default_bind 127.0.0.1
}
http://127.0.0.1:%[1]d {
	amazon_capi {
		endpoint       http://127.0.0.1:%[3]d
		token_url      http://127.0.0.1:%[3]d/auth/o2/token
		account_id     CRASH
		client_id      c
		client_secret  s
		refresh_token  r
		spool          %[4]s
		flush_interval 50ms
		event purchase {
			match {
				path /checkout
			}
			type      OFF_AMAZON_PURCHASES
			currency  USD
			dedupe_id query.order
			country   US
			match_key EMAIL query.email
		}
	}
	respond "thank you"
}
`, site, admin, amazonPort, spool)
}
