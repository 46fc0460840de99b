package fleettest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/fleet"
	"github.com/shopsignal/caddy-amazon-capi/forward"
)

// leaderOf names the server that leads stream.
func leaderOf(t *testing.T, urls []string, stream string) string {
	t.Helper()
	js := jetStreamOf(t, urls)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.Cluster.Leader
}

// The stream's leader dies while three replicas ship and deliver: nothing
// is lost (every order reaches Amazon), and the orders Amazon gets twice
// (acknowledgements lost with the leader, given out again) are few.
func TestTheStreamLeaderKilledUnderLoadLosesNothing(t *testing.T) {
	servers := startCluster(t, 3)
	urls := urlsOf(servers)
	a := newFakeAmazon()
	var replicas []*replica
	for range 3 {
		replicas = append(replicas, startReplica(t, urls, t.TempDir(), a))
	}
	const orders = 3000
	var wg sync.WaitGroup
	half := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range orders {
			if i == orders/2 {
				close(half)
			}
			if o := replicas[i%3].forwarder.Enqueue(purchase(fmt.Sprintf("order-%d", i))); o != forward.Queued {
				t.Errorf("order %d: %v", i, o)
			}
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond) // a shop's pace, not a flood: the load spans the kill
			}
		}
	}()
	<-half
	names := fleet.NamesFor(fleet.Config{}, "ACCOUNT", "test")
	leader := leaderOf(t, urls, names.Stream)
	for _, s := range servers {
		if s.Name() == leader {
			s.Shutdown()
			t.Logf("killed the stream's leader %s; Amazon had taken %d events", leader, a.totalNow())
		}
	}
	wg.Wait()
	a.awaitTaken(t, orders, 90*time.Second)
	awaitEmpty(t, replicas[0].queue)
	ids, total := a.twice()
	t.Logf("%d orders, Amazon took %d events; %d twice", orders, total, len(ids))
	if len(ids) > orders/100 {
		t.Errorf("%d orders reached Amazon twice, more than 1%% of %d", len(ids), orders)
	}
}
