package fleettest

import (
	"bytes"
	"context"
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

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

// caddyBinary is the demo's Caddy (the module and the sandbox), built once.
var caddyBinary struct {
	once sync.Once
	path string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if caddyBinary.path != "" {
		os.RemoveAll(filepath.Dir(caddyBinary.path))
	}
	os.Exit(code)
}

func buildCaddy(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs Caddy")
	}
	caddyBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "fleettest")
		if err != nil {
			caddyBinary.err = err
			return
		}
		caddyBinary.path = filepath.Join(dir, "caddy")
		build := exec.Command("go", "build", "-o", caddyBinary.path, "./cmd/caddy")
		build.Dir = ".." // the plugin's module, as a user's build has it
		caddyBinary.out, caddyBinary.err = build.CombinedOutput()
	})
	if caddyBinary.err != nil {
		t.Fatalf("go build: %v\n%s", caddyBinary.err, caddyBinary.out)
	}
	return caddyBinary.path
}

// fleetCaddy is one Caddy replica, a process of its own.
type fleetCaddy struct {
	site, admin int
	spool       string
	config      string
	cmd         *exec.Cmd
	done        chan struct{}
}

// fleetConfig is a replica's Caddyfile: /checkout is a purchase whose
// e-mail is a match key, sent through the fleet's NATS cluster.
func fleetConfig(site, admin, amazonPort int, spool string, urls []string) string {
	return fmt.Sprintf(`{
	admin 127.0.0.1:%[2]d
	persist_config off
	default_bind 127.0.0.1
}
http://127.0.0.1:%[1]d {
	amazon_capi {
		endpoint       http://127.0.0.1:%[3]d
		token_url      http://127.0.0.1:%[3]d/auth/o2/token
		account_id     FLEET
		client_id      c
		client_secret  s
		refresh_token  r
		spool          %[4]s
		flush_interval 50ms
		batch_size     50
		nats %[5]s {
			replicas 3
		}
		event purchase {
			match {
				path /checkout
			}
			type      OFF_AMAZON_PURCHASES
			currency  USD
			dedupe_id query.order
			country   US
			match_key EMAIL query.email
			match_key PHONE query.phone
		}
	}
	respond "thank you"
}
`, site, admin, amazonPort, spool, strings.Join(urls, " "))
}

func startFleetCaddy(t *testing.T, bin string, amazonPort int, urls []string) *fleetCaddy {
	t.Helper()
	dir := t.TempDir()
	c := &fleetCaddy{site: freePort(t), admin: freePort(t), spool: filepath.Join(dir, "spool"), config: filepath.Join(dir, "Caddyfile")}
	if err := os.WriteFile(c.config, []byte(fleetConfig(c.site, c.admin, amazonPort, c.spool, urls)), 0o600); err != nil {
		t.Fatal(err)
	}
	c.start(t, bin)
	return c
}

func (c *fleetCaddy) start(t *testing.T, bin string) {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", c.config, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	logs, err := os.Create(c.config + ".log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.cmd, c.done = cmd, make(chan struct{})
	done := c.done
	go func() { cmd.Wait(); logs.Close(); close(done) }()
	t.Cleanup(c.kill)
	waitFor(t, "Caddy to serve its config", 60*time.Second, func() bool {
		select {
		case <-done:
			out, _ := os.ReadFile(c.config + ".log")
			t.Fatalf("Caddy exited while starting:\n%s", out)
		default:
		}
		out, _ := os.ReadFile(c.config + ".log")
		return bytes.Contains(out, []byte("serving initial configuration"))
	})
}

func (c *fleetCaddy) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// fleetStatus is the part of GET /amazon_capi/ these tests read.
type fleetStatus struct {
	Forwarder struct {
		Spooled    int `json:"spooled"`
		QueueDepth int `json:"queue_depth"`
	} `json:"forwarder"`
	Fleet struct {
		Ship struct {
			Shipped    uint64 `json:"shipped"`
			Duplicates uint64 `json:"duplicates"`
			Errors     uint64 `json:"ship_errors"`
		} `json:"ship"`
		Deliver struct {
			Delivered   uint64 `json:"delivered"`
			Redelivered uint64 `json:"redelivered"`
			Retried     uint64 `json:"retried"`
		} `json:"deliver"`
		Queue struct {
			Messages   uint64 `json:"messages"`
			AckPending int    `json:"ack_pending"`
			Err        string `json:"error"`
		} `json:"queue"`
	} `json:"fleet"`
}

func (c *fleetCaddy) status() (fleetStatus, error) {
	var st []fleetStatus
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/amazon_capi/", c.admin))
	if err != nil {
		return fleetStatus{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &st); err != nil || len(st) != 1 {
		return fleetStatus{}, fmt.Errorf("admin answered %s", raw)
	}
	return st[0], nil
}

// unshipped is what the replica holds that NATS does not have yet.
func (c *fleetCaddy) unshipped() int {
	st, err := c.status()
	if err != nil {
		return -1
	}
	return st.Forwarder.QueueDepth
}

// orders posts checkouts, each to the replica pick names, from eight
// workers; it returns the answers that were not 200 (and how long the
// slowest answer took, see ordersTimed).
func orders(replicas []*fleetCaddy, ids []string, pick func(i int) int) (failed []string) {
	failed, _ = ordersTimed(replicas, ids, pick)
	return failed
}

func ordersTimed(replicas []*fleetCaddy, ids []string, pick func(i int) int) (failed []string, slowest time.Duration) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan int)
	client := &http.Client{Timeout: 10 * time.Second}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := replicas[pick(i)]
				began := time.Now()
				resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/checkout?order=%s&email=user%d@example.com&phone=%%2B1206555%04d", c.site, ids[i], i, i%10000))
				status := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				took := time.Since(began)
				mu.Lock()
				slowest = max(slowest, took)
				if status != http.StatusOK {
					failed = append(failed, fmt.Sprintf("%s: %d %v", ids[i], status, err))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range ids {
		work <- i
	}
	close(work)
	wg.Wait()
	return failed, slowest
}

// steadyLoad posts ids in rounds of 100 spread over the replicas, a round
// every 30 ms, and runs fault once 500 have been answered; it returns
// the failed answers and the slowest answer before and after the fault.
func steadyLoad(t *testing.T, replicas []*fleetCaddy, ids []string, fault func()) (failed []string, before, after time.Duration) {
	t.Helper()
	var sent atomic.Int64
	var faulted atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for start := 0; start < len(ids); start += 100 {
			f, slowest := ordersTimed(replicas, ids[start:start+100], func(i int) int { return (start + i) % 3 })
			failed = append(failed, f...)
			if faulted.Load() {
				after = max(after, slowest)
			} else {
				before = max(before, slowest)
			}
			sent.Add(100)
			time.Sleep(30 * time.Millisecond) // a shop's steady traffic, not a flood
		}
	}()
	waitFor(t, "the load to start", 30*time.Second, func() bool { return sent.Load() >= 500 })
	faulted.Store(true)
	fault()
	<-done
	return failed, before, after
}

func orderIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return ids
}

// amazonFor is the sandbox standing in for Amazon, on a port it holds
// for the whole test.
func amazonFor(t *testing.T) (*sandbox.Server, int) {
	sb := sandbox.New(sandbox.Config{AccountID: "FLEET", Keep: 100000})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv.Listener.Addr().(*net.TCPAddr).Port
}

// fleetOfThree starts a 3-node NATS cluster, the sandbox as Amazon
// (answering every events call with status, when not 0, until told
// otherwise) and three Caddy replicas sending through the cluster.
func fleetOfThree(t *testing.T, status int) ([]*natsServer, *sandbox.Server, []*fleetCaddy) {
	t.Helper()
	bin := buildCaddy(t)
	servers := startCluster(t, 3)
	sb, amazonPort := amazonFor(t)
	if status != 0 {
		sb.SetFaults(sandbox.Faults{Status: status})
	}
	var replicas []*fleetCaddy
	for range 3 {
		replicas = append(replicas, startFleetCaddy(t, bin, amazonPort, urlsOf(servers)))
	}
	return servers, sb, replicas
}

// receivedOnce checks that the sandbox took each of ids exactly once, and
// accepted it.
func receivedOnce(t *testing.T, sb *sandbox.Server, ids []string) {
	t.Helper()
	counts := map[string]int{}
	for _, r := range sb.Received() {
		if !r.Accepted {
			t.Errorf("the sandbox refused %s: %+v", r.EventID, r.Errors)
		}
		counts[r.EventID]++
	}
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("order %s reached Amazon %d times", id, counts[id])
		}
	}
	if len(counts) != len(ids) {
		t.Errorf("Amazon has %d distinct events, want %d", len(counts), len(ids))
	}
}

func awaitReceived(t *testing.T, sb *sandbox.Server, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("Amazon to take %d events", n), 120*time.Second, func() bool {
		seen := map[string]bool{}
		for _, r := range sb.Received() {
			seen[r.EventID] = true
		}
		return len(seen) >= n
	})
}

// awaitStreamEmpty waits until every replica's view of the stream is
// empty: nothing waiting, nothing out to a replica.
func awaitStreamEmpty(t *testing.T, c *fleetCaddy) {
	t.Helper()
	waitFor(t, "the stream to empty", 60*time.Second, func() bool {
		st, err := c.status()
		return err == nil && st.Fleet.Queue.Err == "" && st.Fleet.Queue.Messages == 0 && st.Fleet.Queue.AckPending == 0
	})
}

// Orders spread over three Caddy replicas, some posted to two of them: each
// reaches Amazon once, and the duplicates are counted where they landed.
func TestCaddyReplicasDeliverEachOrderOnce(t *testing.T) {
	_, sb, replicas := fleetOfThree(t, 0)
	ids := orderIDs("ORD", 600)
	if failed := orders(replicas, ids, func(i int) int { return i % 3 }); len(failed) > 0 {
		t.Fatalf("%d orders failed: %v", len(failed), failed[:min(5, len(failed))])
	}
	again := ids[:30] // retried checkouts that landed on another replica
	if failed := orders(replicas, again, func(i int) int { return (i + 1) % 3 }); len(failed) > 0 {
		t.Fatalf("%d orders failed: %v", len(failed), failed)
	}
	awaitReceived(t, sb, len(ids))
	awaitStreamEmpty(t, replicas[0])
	receivedOnce(t, sb, ids)
	var duplicates uint64
	for _, r := range replicas {
		st, err := r.status()
		if err != nil {
			t.Fatal(err)
		}
		duplicates += st.Fleet.Ship.Duplicates
	}
	if duplicates != uint64(len(again)) {
		t.Errorf("the replicas counted %d duplicates, want %d", duplicates, len(again))
	}
	// One view of the fleet: each replica's /metrics has its own shipping
	// and the stream's state; summed, they account for every event.
	sum := map[string]float64{}
	for _, r := range replicas {
		for name, v := range fleetMetrics(t, r) {
			sum[name] += v
		}
		page := get(t, fmt.Sprintf("http://127.0.0.1:%d/amazon_capi/status", r.admin))
		if !strings.Contains(page, "Fleet (NATS stream AMAZON_CAPI_FLEET_") {
			t.Errorf("the status page shows no fleet section")
		}
	}
	shipped, delivered, dups := sum["caddy_amazon_capi_fleet_shipped_total"], sum["caddy_amazon_capi_fleet_delivered_total"], sum["caddy_amazon_capi_fleet_duplicates_total"]
	if shipped != float64(len(ids)+len(again)) || delivered != float64(len(ids)) || dups != float64(len(again)) ||
		shipped-delivered-sum["caddy_amazon_capi_fleet_dead_lettered_total"]-dups-sum["caddy_amazon_capi_fleet_stream_messages"] != 0 ||
		sum["caddy_amazon_capi_fleet_nats_up"] != 3 {
		t.Errorf("the fleet's metrics do not add up: %v", sum)
	}
}

// fleetMetrics reads a replica's caddy_amazon_capi_fleet_* series.
func fleetMetrics(t *testing.T, c *fleetCaddy) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(get(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", c.admin)), "\n") {
		if !strings.HasPrefix(line, "caddy_amazon_capi_fleet_") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
			out[name] += v
		}
	}
	return out
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

// Amazon down; orders accepted by three replicas; one replica killed with
// SIGKILL and its spool deleted (a pod rescheduled with an empty disk);
// Amazon back: every order answered 200 reaches Amazon once. While they
// wait, the stream holds only what Amazon would receive: no e-mail
// address or phone number in the clear.
func TestAReplicaKilledWithItsDiskLosesNothing(t *testing.T) {
	servers, sb, replicas := fleetOfThree(t, http.StatusServiceUnavailable)
	ids := orderIDs("KILL", 900)
	if failed := orders(replicas, ids, func(i int) int { return i % 3 }); len(failed) > 0 {
		t.Fatalf("%d orders failed: %v", len(failed), failed[:min(5, len(failed))])
	}
	victim := replicas[0]
	for _, r := range replicas {
		waitFor(t, "the replicas to ship what they accepted", 30*time.Second, func() bool { return r.unshipped() == 0 })
		st, _ := r.status()
		t.Logf("replica shipped %d, ship errors %d", st.Fleet.Ship.Shipped, st.Fleet.Ship.Errors)
	}
	victim.kill()
	if err := os.RemoveAll(victim.spool); err != nil {
		t.Fatal(err)
	}
	checkStreamHoldsNoRawPII(t, urlsOf(servers), len(ids))
	sb.SetFaults(sandbox.Faults{})
	awaitReceived(t, sb, len(ids))
	awaitStreamEmpty(t, replicas[1])
	receivedOnce(t, sb, ids)
}

// checkStreamHoldsNoRawPII reads the stream's messages as they are
// stored and looks for the orders' e-mail addresses and phone numbers.
func checkStreamHoldsNoRawPII(t *testing.T, urls []string, want int) {
	t.Helper()
	js := jetStreamOf(t, urls)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, streamName(t, urls))
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	var missing error
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			missing = err
			continue
		}
		read++
		for _, clear := range []string{"@example.com", "example.com", "+1206555", "1206555"} {
			if bytes.Contains(m.Data, []byte(clear)) {
				t.Fatalf("message %d holds %q in the clear: %s", seq, clear, m.Data)
			}
		}
	}
	if read != want {
		t.Errorf("read %d messages of the stream, want about %d", read, want)
	}
	t.Logf("read %d messages of the stream (%d to %d; state %d messages; last error %v): match keys hashed", read, info.State.FirstSeq, info.State.LastSeq, info.State.Msgs, missing)
}

// Every NATS server down for 10 s under load: the site answers every
// order as before, and everything reaches Amazon once when NATS is back.
// (Before each acknowledgement was confirmed, those of events Amazon took
// just as the servers went down could be lost: 24 and 33 of 3,000 orders
// reached Amazon twice in two of about eight runs.)
func TestEveryNATSServerDownForTenSeconds(t *testing.T) {
	servers, sb, replicas := fleetOfThree(t, 0)
	ids := orderIDs("OUT", 3000)
	failed, before, during := steadyLoad(t, replicas, ids, func() {
		for _, s := range servers {
			s.Shutdown()
		}
		time.Sleep(10 * time.Second) // the outage itself: its length is the test's point
		for i, s := range servers {
			servers[i] = s.restart(t)
		}
	})
	t.Logf("slowest answer before the outage %v, from its start on %v", before, during)
	if len(failed) > 0 {
		t.Fatalf("%d orders failed during the outage: %v", len(failed), failed[:min(5, len(failed))])
	}
	// The site never waits on NATS: a request that did would have waited
	// for the outage, seconds.
	if during > 2*time.Second {
		t.Errorf("an order took %v to answer during the outage", during)
	}
	awaitReceived(t, sb, len(ids))
	awaitStreamEmpty(t, replicas[0])
	checkDelivered(t, sb, ids, replicas, 0)
}

// checkDelivered fails for an order Amazon never got, or for more than
// mostTwice of them that it got twice, and says how many were.
func checkDelivered(t *testing.T, sb *sandbox.Server, ids []string, replicas []*fleetCaddy, mostTwice int) {
	t.Helper()
	counts := map[string]int{}
	for _, r := range sb.Received() {
		counts[r.EventID]++
	}
	var twice []string
	for _, id := range ids {
		switch counts[id] {
		case 0:
			t.Errorf("order %s was lost", id)
		case 1:
		default:
			twice = append(twice, id)
		}
	}
	var redelivered []uint64
	for _, r := range replicas {
		if st, err := r.status(); err == nil {
			redelivered = append(redelivered, st.Fleet.Deliver.Redelivered)
		}
	}
	t.Logf("%d orders, %d reached Amazon twice %v; events given out again, per replica: %v", len(ids), len(twice), twice[:min(5, len(twice))], redelivered)
	if len(twice) > mostTwice {
		t.Errorf("%d orders reached Amazon twice, more than %d", len(twice), mostTwice)
	}
}

// The stream's leader killed under load, with three Caddy replicas:
// nothing is lost, and the orders Amazon gets twice (acknowledgements
// lost with the leader, given out again) are at most 1 %.
func TestTheStreamLeaderKilledUnderLoadWithCaddyReplicas(t *testing.T) {
	servers, sb, replicas := fleetOfThree(t, 0)
	ids := orderIDs("LEAD", 3000)
	failed, _, _ := steadyLoad(t, replicas, ids, func() {
		stream := streamName(t, urlsOf(servers))
		leader := leaderOf(t, urlsOf(servers), stream)
		for _, s := range servers {
			if s.Name() == leader {
				s.Shutdown()
				t.Logf("killed %s, the leader of %s", leader, stream)
			}
		}
	})
	if len(failed) > 0 {
		t.Fatalf("%d orders failed: %v", len(failed), failed[:min(5, len(failed))])
	}
	awaitReceived(t, sb, len(ids))
	awaitStreamEmpty(t, replicas[1])
	checkDelivered(t, sb, ids, replicas, len(ids)/100) // at most 1 %
}

// streamName finds the destination's events stream.
func streamName(t *testing.T, urls []string) string {
	t.Helper()
	js := jetStreamOf(t, urls)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name := range js.StreamNames(ctx).Name() {
		if strings.HasPrefix(name, "AMAZON_CAPI_") && !strings.HasSuffix(name, "_DEAD") {
			return name
		}
	}
	t.Fatal("no stream")
	return ""
}

// Amazon refuses the batches for good (400): the events go to the
// dead-letter stream, any replica lists them (GET /amazon_capi/dead_letter)
// and any replica replays them (POST /amazon_capi/replay); Amazon, fixed,
// then takes each once.
func TestDeadLettersAreTheFleetsToListAndReplay(t *testing.T) {
	_, sb, replicas := fleetOfThree(t, http.StatusBadRequest)
	ids := orderIDs("DEAD", 60)
	if failed := orders(replicas[:1], ids, func(int) int { return 0 }); len(failed) > 0 {
		t.Fatalf("orders failed: %v", failed)
	}
	var letters map[string][]struct {
		Code  string          `json:"code"`
		Event json.RawMessage `json:"event"`
	}
	waitFor(t, "the dead letters in the stream", 60*time.Second, func() bool {
		letters = nil
		_ = json.Unmarshal([]byte(get(t, fmt.Sprintf("http://127.0.0.1:%d/amazon_capi/dead_letter", replicas[1].admin))), &letters)
		n := 0
		for _, l := range letters {
			n += len(l)
		}
		return n == len(ids)
	})
	for _, list := range letters {
		for _, l := range list {
			if l.Code != "HTTP_400" || bytes.Contains(l.Event, []byte("@example.com")) {
				t.Fatalf("dead letter %s: %s", l.Code, l.Event)
			}
		}
	}
	sb.SetFaults(sandbox.Faults{})
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/amazon_capi/replay", replicas[2].admin), "", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("replay: %v %v", resp, err)
	}
	resp.Body.Close()
	awaitReceived(t, sb, len(ids))
	awaitStreamEmpty(t, replicas[0])
	counts := map[string]int{}
	for _, r := range sb.Received() {
		counts[r.EventID]++
	}
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("order %s reached Amazon %d times after the replay", id, counts[id])
		}
	}
}

// jetStreamOf is a JetStream client of the cluster at urls, closed with
// the test.
func jetStreamOf(t *testing.T, urls []string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(strings.Join(urls, ","))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
