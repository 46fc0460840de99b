package fleettest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/shopsignal/caddy-amazon-capi/internal/testnet"
)

// natsServer is a JetStream server in this process, on a loopback port.
type natsServer struct {
	*server.Server
	opts *server.Options
}

func freePort(t testing.TB) int {
	t.Helper()
	port, err := testnet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startNATS starts one JetStream server, storing under a directory of
// the test's.
func startNATS(t testing.TB) *natsServer {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: freePort(t), JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}
	s := runNATS(t, opts)
	t.Cleanup(s.Shutdown)
	return s
}

// startCluster starts a JetStream cluster of n servers.
func startCluster(t *testing.T, n int) []*natsServer {
	t.Helper()
	routes := make([]int, n)
	for i := range routes {
		routes[i] = freePort(t)
	}
	var urls []string
	for _, p := range routes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	servers := make([]*natsServer, n)
	for i := range servers {
		opts := &server.Options{ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: freePort(t),
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "capi", Host: "127.0.0.1", Port: routes[i]},
			Routes:  server.RoutesFromStr(strings.Join(urls, ","))}
		servers[i] = runNATS(t, opts)
	}
	t.Cleanup(func() {
		for _, s := range servers {
			s.Shutdown()
		}
	})
	for _, s := range servers {
		waitFor(t, "the cluster to elect a JetStream leader", 20*time.Second, s.JetStreamIsCurrent)
	}
	return servers
}

func runNATS(t testing.TB, opts *server.Options) *natsServer {
	t.Helper()
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	return &natsServer{Server: s, opts: opts}
}

// restart starts the server again with its options (its port and store).
func (s *natsServer) restart(t *testing.T) *natsServer {
	t.Helper()
	s.Shutdown()
	s.WaitForShutdown()
	return runNATS(t, s.opts)
}

func (s *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

func urlsOf(servers []*natsServer) []string {
	var out []string
	for _, s := range servers {
		out = append(out, s.url())
	}
	return out
}

// waitFor polls a condition that no signal reports (a NATS server's
// state, another process), until timeout.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
