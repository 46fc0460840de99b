package fleettest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/tidwall/gjson"
	"go.uber.org/zap/zaptest"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/fleet"
	"github.com/shopsignal/caddy-amazon-capi/forward"
)

// fakeAmazon counts the event IDs it takes; it answers 503 while down,
// and refuses for good the IDs in refuse.
type fakeAmazon struct {
	mu      sync.Mutex
	down    bool
	refuse  map[string]bool
	taken   map[string]int
	total   int
	changed chan struct{} // a value after each call
}

func newFakeAmazon() *fakeAmazon {
	return &fakeAmazon{refuse: map[string]bool{}, taken: map[string]int{}, changed: make(chan struct{}, 1)}
}

func (a *fakeAmazon) Send(_ context.Context, events []json.RawMessage) (*amazon.Result, error) {
	a.mu.Lock()
	defer func() {
		a.mu.Unlock()
		select {
		case a.changed <- struct{}{}:
		default:
		}
	}()
	if a.down {
		return &amazon.Result{Status: http.StatusServiceUnavailable}, nil
	}
	res := &amazon.Result{Status: http.StatusMultiStatus}
	for i, e := range events {
		id := gjson.GetBytes(e, "eventId").String()
		if a.refuse[id] {
			res.Rejected = append(res.Rejected, amazon.Rejection{Index: i, Errors: []amazon.FieldError{{Code: "FIELD_VALUE_IS_INVALID", Message: "refused by the test"}}})
			continue
		}
		a.taken[id]++
		a.total++
		res.Accepted++
	}
	return res, nil
}

func (a *fakeAmazon) setDown(down bool) {
	a.mu.Lock()
	a.down = down
	a.mu.Unlock()
}

// awaitTaken waits until Amazon took n distinct events.
func (a *fakeAmazon) awaitTaken(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		a.mu.Lock()
		got := len(a.taken)
		a.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-a.changed:
		case <-deadline:
			t.Fatalf("Amazon took %d distinct events, want %d", got, n)
		}
	}
}

func (a *fakeAmazon) totalNow() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// twice lists the IDs Amazon took more than once.
func (a *fakeAmazon) twice() (ids []string, total int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, n := range a.taken {
		if n > 1 {
			ids = append(ids, id)
		}
	}
	return ids, a.total
}

// replica is one Caddy's share of a fleet, without Caddy: a spool, a
// forwarder that ships through the queue, and a deliverer.
type replica struct {
	forwarder *forward.Forwarder
	shipper   *fleet.Shipper
	queue     *fleet.Queue
	deliverer *fleet.Deliverer
	stop      context.CancelFunc
	done      chan struct{}
}

var testSpec = fleet.Spec{DedupeWindow: 10 * time.Minute, MaxAge: 24 * time.Hour, BatchSize: 50, RequestTimeout: 5 * time.Second}

func startReplica(t *testing.T, urls []string, dir string, a fleet.Sender) *replica {
	t.Helper()
	cfg := fleet.Config{URLs: urls, Replicas: 1}
	if len(urls) > 1 {
		cfg.Replicas = 3
	}
	names := fleet.NamesFor(cfg, "ACCOUNT", "test")
	q, err := fleet.Open(cfg, names, testSpec, "test replica")
	if err != nil {
		t.Fatal(err)
	}
	shipper := q.Shipper()
	spool := func() (*forward.Spool, error) { return forward.OpenSpool(filepath.Join(dir, "spool")) }
	f := forward.NewDeferred(forward.Config{BatchSize: 50, FlushInterval: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		DedupeWindow: -1, Logger: zaptest.NewLogger(t)}, shipper, spool)
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	d := q.Deliverer(a, zaptest.NewLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{forwarder: f, shipper: shipper, queue: q, deliverer: d, stop: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); d.Run(ctx) }()
	t.Cleanup(r.close)
	return r
}

func (r *replica) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.forwarder.Stop(ctx)
	r.stop()
	<-r.done
	r.queue.Close()
}

func purchase(id string) amazon.Event {
	return amazon.Event{
		EventDescription: amazon.EventDescription{Name: "purchase", ConversionType: "OFF_AMAZON_PURCHASES", EventSource: "WEBSITE", EventIngestionMethod: amazon.IngestionServerToServer},
		EventTime:        time.Now().UTC().Format(time.RFC3339Nano),
		EventID:          id,
		CountryCode:      "US",
		MatchKeys:        []amazon.MatchKey{{Type: "FIP", Values: []string{"203.0.113.7"}}},
	}
}

func enqueue(t *testing.T, r *replica, id string) {
	t.Helper()
	if o := r.forwarder.Enqueue(purchase(id)); o != forward.Queued {
		t.Fatalf("event %s: %v", id, o)
	}
}

// awaitEmpty waits until the stream holds nothing: every event was
// acknowledged (taken by Amazon) or dead-lettered, so no more can come.
func awaitEmpty(t *testing.T, q *fleet.Queue) {
	t.Helper()
	waitFor(t, "the stream to empty", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st := q.State(ctx)
		return st.Err == "" && st.Messages == 0 && st.AckPending == 0
	})
}

// Orders spread over three replicas, some sent to two of them: Amazon
// takes each event ID once, and the shipped duplicates are counted.
func TestOrdersSpreadOverReplicasReachAmazonOnce(t *testing.T) {
	ns := startNATS(t)
	a := newFakeAmazon()
	replicas := []*replica{
		startReplica(t, []string{ns.url()}, t.TempDir(), a),
		startReplica(t, []string{ns.url()}, t.TempDir(), a),
		startReplica(t, []string{ns.url()}, t.TempDir(), a),
	}
	const orders, twice = 600, 30
	for i := range orders {
		enqueue(t, replicas[i%3], fmt.Sprintf("order-%d", i))
	}
	for i := range twice { // a retried checkout that landed on another replica
		enqueue(t, replicas[(i+1)%3], fmt.Sprintf("order-%d", i))
	}
	a.awaitTaken(t, orders, 30*time.Second)
	awaitEmpty(t, replicas[0].queue)
	if ids, total := a.twice(); len(ids) > 0 || total != orders {
		t.Errorf("Amazon took %d events for %d orders; twice: %v", total, orders, ids)
	}
	var shipped, duplicates, delivered uint64
	for _, r := range replicas {
		shipped += r.shipper.Stats().Shipped
		duplicates += r.shipper.Stats().Duplicates
		delivered += r.deliverer.Stats().Delivered
	}
	// The fleet's reconciliation: shipped = delivered + dead-lettered +
	// waiting in the stream (none) + duplicates.
	if delivered != orders || duplicates != twice || shipped != delivered+duplicates {
		t.Errorf("shipped %d, delivered %d, duplicates %d; want %d delivered and %d duplicates", shipped, delivered, duplicates, orders, twice)
	}
}

// An event Amazon refuses for good goes to the dead-letter stream, with
// Amazon's reason, where any replica lists it and can replay it.
func TestARefusedEventIsDeadLetteredInTheStreamAndReplayed(t *testing.T) {
	ns := startNATS(t)
	a := newFakeAmazon()
	a.refuse["bad-1"] = true
	one := startReplica(t, []string{ns.url()}, t.TempDir(), a)
	other := startReplica(t, []string{ns.url()}, t.TempDir(), a)
	for _, id := range []string{"good-1", "bad-1", "good-2"} {
		enqueue(t, one, id)
	}
	a.awaitTaken(t, 2, 30*time.Second)
	awaitEmpty(t, one.queue)
	ctx := context.Background()
	letters, err := other.queue.DeadLetters(ctx, 10)
	if err != nil || len(letters) != 1 || gjson.GetBytes(letters[0].Event, "eventId").String() != "bad-1" ||
		letters[0].Code != "FIELD_VALUE_IS_INVALID" || letters[0].Reason == "" {
		t.Fatalf("dead letters %+v, %v; want bad-1 with Amazon's code and reason", letters, err)
	}
	a.mu.Lock()
	delete(a.refuse, "bad-1") // the mapping was fixed
	a.mu.Unlock()
	if n, err := other.queue.Replay(ctx, 10); n != 1 || err != nil {
		t.Fatalf("replayed %d, %v", n, err)
	}
	a.awaitTaken(t, 3, 30*time.Second)
	if letters, err := one.queue.DeadLetters(ctx, 10); len(letters) != 0 || err != nil {
		t.Errorf("after the replay: %d dead letters, %v", len(letters), err)
	}
}

// NATS down: the replicas' spools keep what they accept (the forwarder
// counts it queued, the shipper's errors rise) and ship it when NATS is
// back; Amazon gets every event once.
func TestNATSDownTheSpoolKeepsEventsUntilItIsBack(t *testing.T) {
	ns := startNATS(t)
	a := newFakeAmazon()
	r := startReplica(t, []string{ns.url()}, t.TempDir(), a)
	enqueue(t, r, "before")
	a.awaitTaken(t, 1, 30*time.Second)
	awaitEmpty(t, r.queue) // its acknowledgement stored: a lost one would have Amazon take it again
	ns.Shutdown()
	ns.WaitForShutdown()
	for i := range 200 {
		enqueue(t, r, fmt.Sprintf("while-down-%d", i))
	}
	waitFor(t, "a failed shipment", 30*time.Second, func() bool { return r.shipper.Stats().Errors > 0 })
	if st := r.forwarder.Stats(); st.Spooled+st.QueueDepth == 0 {
		t.Fatalf("nothing kept while NATS is down: %+v", st)
	}
	ns = ns.restart(t)
	t.Cleanup(ns.Shutdown)
	a.awaitTaken(t, 201, 60*time.Second)
	awaitEmpty(t, r.queue)
	if ids, total := a.twice(); len(ids) > 0 || total != 201 {
		t.Errorf("Amazon took %d events for 201; twice: %v", total, ids)
	}
}

// gate is an Amazon that holds every call until released, and counts the
// calls in flight at once.
type gate struct {
	*fakeAmazon
	mu             sync.Mutex
	inFlight, most int           // events in calls not answered yet
	entered        chan struct{} // a value per call that starts
	release        chan struct{} // closed: every call goes on
}

func newGate(a *fakeAmazon) *gate {
	return &gate{fakeAmazon: a, entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gate) Send(ctx context.Context, events []json.RawMessage) (*amazon.Result, error) {
	g.mu.Lock()
	g.inFlight += len(events)
	g.most = max(g.most, g.inFlight)
	g.mu.Unlock()
	defer func() { g.mu.Lock(); g.inFlight -= len(events); g.mu.Unlock() }()
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.fakeAmazon.Send(ctx, events)
}

// However many replicas deliver, at most two batches' worth of events
// (2 × batch_size) are out to Amazon at once: the fleet calls Amazon at
// one destination's pace. Here Amazon holds every call until all 1,000
// events are in the stream, so each of the four replicas could take some.
func TestTheFleetCallsAmazonAtOneDestinationsPace(t *testing.T) {
	ns := startNATS(t)
	a := newFakeAmazon()
	g := newGate(a)
	var replicas []*replica
	for range 4 {
		replicas = append(replicas, startReplica(t, []string{ns.url()}, t.TempDir(), g))
	}
	const orders, window = 1000, 2 * 50
	for i := range orders {
		enqueue(t, replicas[i%4], fmt.Sprintf("order-%d", i))
	}
	waitFor(t, "every event in the stream, a window's worth out", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st := replicas[0].queue.State(ctx)
		return st.Err == "" && st.Messages == orders && st.AckPending == window
	})
	close(g.release)
	a.awaitTaken(t, orders, 60*time.Second)
	if g.most > window {
		t.Errorf("%d events out to Amazon at once, want at most %d", g.most, window)
	}
}

// A replica that dies in the middle of a call to Amazon (its connection
// gone, nothing acknowledged): JetStream gives its batch to another
// replica once the acknowledgement wait has passed, and every event
// reaches Amazon.
func TestAReplicaThatDiesMidBatchIsCoveredByTheOthers(t *testing.T) {
	ns := startNATS(t)
	a := newFakeAmazon()
	g := newGate(a)
	dying := startReplica(t, []string{ns.url()}, t.TempDir(), g)
	for i := range 50 {
		enqueue(t, dying, fmt.Sprintf("order-%d", i))
	}
	<-g.entered // its batch is out to Amazon
	dying.queue.Close()
	close(g.release) // Amazon answers, too late for the dead replica to acknowledge
	other := startReplica(t, []string{ns.url()}, t.TempDir(), a)
	a.awaitTaken(t, 50, 60*time.Second)
	awaitEmpty(t, other.queue)
	if st := other.deliverer.Stats(); st.Delivered < 50 {
		t.Errorf("the other replica delivered %d, want the 50 of the dead one", st.Delivered)
	}
}

// The stream's duplicate window is dedupe_window; with dedupe_window off,
// 2 minutes, so that a shipment sent again is still stored once.
func TestTheStreamsDuplicateWindowIsDedupeWindow(t *testing.T) {
	ns := startNATS(t)
	for i, c := range []struct{ window, want time.Duration }{{time.Minute, time.Minute}, {25 * time.Minute, 25 * time.Minute}, {-1, 2 * time.Minute}} {
		spec := testSpec
		spec.DedupeWindow = c.window
		cfg := fleet.Config{URLs: []string{ns.url()}}
		q, err := fleet.Open(cfg, fleet.NamesFor(cfg, "ACCOUNT", fmt.Sprint("window", i)), spec, "test")
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		if res, err := q.Shipper().Send(context.Background(), []json.RawMessage{mustJSON(t, purchase("w"))}); err != nil || res.Accepted != 1 {
			t.Fatalf("shipping: %v %+v", err, res)
		}
		info, err := ns.Jsz(&server.JSzOptions{Accounts: true, Streams: true, Config: true})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range info.AccountDetails {
			for _, st := range a.Streams {
				if st.Name == q.Names().Stream {
					found = true
					if st.Config.Duplicates != c.want {
						t.Errorf("dedupe_window %v: the stream's duplicate window is %v, want %v", c.window, st.Config.Duplicates, c.want)
					}
				}
			}
		}
		if !found {
			t.Errorf("no stream %s", q.Names().Stream)
		}
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
