package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tidwall/gjson"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// fakeAmazon records the batches it is sent and answers with answer.
type fakeAmazon struct {
	mu      sync.Mutex
	batches [][]amazon.Event
	answer  func(call int, events []amazon.Event) (*amazon.Result, error)
}

func newFake(answer func(int, []amazon.Event) (*amazon.Result, error)) *fakeAmazon {
	if answer == nil {
		answer = accepted
	}
	return &fakeAmazon{answer: answer}
}

func accepted(_ int, events []amazon.Event) (*amazon.Result, error) {
	return &amazon.Result{Status: 207, Accepted: len(events)}, nil
}

func (f *fakeAmazon) Send(_ context.Context, raw []json.RawMessage) (*amazon.Result, error) {
	events := make([]amazon.Event, len(raw))
	for i := range raw {
		if err := json.Unmarshal(raw[i], &events[i]); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	call := len(f.batches)
	f.batches = append(f.batches, append([]amazon.Event(nil), events...))
	f.mu.Unlock()
	return f.answer(call, events)
}

func (f *fakeAmazon) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, b := range f.batches {
		out = append(out, len(b))
	}
	return out
}

func event(i int) amazon.Event {
	return amazon.Event{
		EventDescription: amazon.EventDescription{Name: "purchase", ConversionType: "OFF_AMAZON_PURCHASES", EventSource: "WEBSITE", EventIngestionMethod: amazon.IngestionServerToServer},
		EventTime:        time.Now().UTC().Format(time.RFC3339Nano),
		EventID:          fmt.Sprintf("ev-%d", i),
		CountryCode:      "US",
		MatchKeys:        []amazon.MatchKey{{Type: "FIP", Values: []string{"203.0.113.7"}}},
	}
}

func openSpool(t *testing.T, dir string) *Spool {
	t.Helper()
	s, err := OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// started is a forwarder under test with the reports of its batches.
type started struct {
	*Forwarder
	reports chan BatchReport
}

func start(t *testing.T, cfg Config, sender Sender, dir string) started {
	t.Helper()
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Millisecond
	}
	reports := make(chan BatchReport, 10000)
	cfg.AfterBatch = func(r BatchReport) { reports <- r }
	f := New(cfg, sender, openSpool(t, dir))
	t.Cleanup(func() { f.Stop(context.Background()) })
	return started{f, reports}
}

// settle waits until Amazon has answered for n events (sent or rejected).
func (s started) settle(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for done := 0; done < n; {
		select {
		case r := <-s.reports:
			done += r.Sent + r.Rejected
		case <-timeout:
			t.Fatalf("only %d of %d events settled; stats %+v", done, n, s.Stats())
		}
	}
}

func TestBatchesHoldAtMostBatchSize(t *testing.T) {
	fake := newFake(nil)
	// A long flush interval: only full batches go out until the last one.
	f := start(t, Config{BatchSize: 500, FlushInterval: 200 * time.Millisecond}, fake, t.TempDir())
	for i := 0; i < 1200; i++ {
		if f.Enqueue(event(i)) != Queued {
			t.Fatal("enqueue refused")
		}
	}
	f.settle(t, 1200)
	for _, n := range fake.sizes() {
		if n > 500 || n == 0 {
			t.Errorf("batch of %d events", n)
		}
	}
	if st := f.Stats(); st.Sent != 1200 || st.Queued != 1200 {
		t.Errorf("stats %+v", st)
	}
}

func TestPartialBatchGoesOutAfterFlushInterval(t *testing.T) {
	fake := newFake(nil)
	f := start(t, Config{BatchSize: 500, FlushInterval: time.Hour}, fake, t.TempDir())
	f.Enqueue(event(1))
	f.Enqueue(event(2))
	for f.Stats().Spooled != 2 { // the spool writer signals nothing a test can hold
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-f.reports:
		t.Fatalf("a partial batch went out before its flush interval: %+v", r)
	default:
	}
	f.Configure(Config{BatchSize: 500, FlushInterval: 10 * time.Millisecond}) // the interval ends: the waiting batch goes
	f.settle(t, 2)
	if sizes := fake.sizes(); len(sizes) != 1 || sizes[0] != 2 {
		t.Errorf("batches %v, want the two events in one partial batch", sizes)
	}
}

func TestRetriesTransientFailuresUntilAccepted(t *testing.T) {
	fake := newFake(func(call int, events []amazon.Event) (*amazon.Result, error) {
		switch call {
		case 0:
			return &amazon.Result{Status: 503}, nil
		case 1:
			return nil, fmt.Errorf("connection reset")
		case 2:
			return &amazon.Result{Status: 429, RetryAfter: time.Millisecond}, nil
		}
		return accepted(call, events)
	})
	f := start(t, Config{BatchSize: 10, FlushInterval: time.Millisecond}, fake, t.TempDir())
	f.Enqueue(event(1))
	f.settle(t, 1)
	if st := f.Stats(); st.Sent != 1 || st.Spooled != 0 || st.Batches != 4 {
		t.Errorf("stats %+v, want 1 sent after 4 calls", st)
	}
}

func TestSplitsABatchAmazonFindsTooLarge(t *testing.T) {
	fake := newFake(func(call int, events []amazon.Event) (*amazon.Result, error) {
		if len(events) > 2 {
			return &amazon.Result{Status: 413}, nil
		}
		return accepted(call, events)
	})
	f := start(t, Config{BatchSize: 8, FlushInterval: time.Millisecond}, fake, t.TempDir())
	for i := 0; i < 8; i++ {
		f.Enqueue(event(i))
	}
	f.settle(t, 8)
	if f.Stats().Sent != 8 || f.Stats().Spooled != 0 {
		t.Errorf("spool still holds %d", f.Stats().Spooled)
	}
}

func TestRejectionsAndRefusedBatchesLeaveTheSpool(t *testing.T) {
	fake := newFake(func(call int, events []amazon.Event) (*amazon.Result, error) {
		if call == 0 {
			return &amazon.Result{Status: 207, Rejected: []amazon.Rejection{{Index: 1, Errors: []amazon.FieldError{{Code: "FIELD_VALUE_IS_INVALID", Message: "bad"}}}}}, nil
		}
		return &amazon.Result{Status: 400, Code: "BAD_REQUEST", Message: "no"}, nil
	})
	f := start(t, Config{BatchSize: 3, FlushInterval: time.Hour}, fake, t.TempDir())
	for i := 0; i < 6; i++ {
		f.Enqueue(event(i))
	}
	f.settle(t, 6)
	if st := f.Stats(); st.Sent != 2 || st.Rejected != 4 || st.Spooled != 0 {
		t.Errorf("stats %+v, want 2 sent, 4 rejected, none spooled", st)
	}
}

func TestEventsOlderThanTheWindowAreNotSent(t *testing.T) {
	fake := newFake(nil)
	f := start(t, Config{BatchSize: 2, FlushInterval: time.Millisecond, MaxAge: time.Hour}, fake, t.TempDir())
	old := event(1)
	old.EventTime = time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339Nano)
	f.Enqueue(old)
	f.Enqueue(event(2))
	f.settle(t, 2)
	if st := f.Stats(); st.Rejected != 1 || st.Sent != 1 || st.Spooled != 0 {
		t.Errorf("stats %+v", st)
	}
	if b := fake.batches[0]; len(b) != 1 || b[0].EventID != "ev-2" {
		t.Errorf("sent %+v", b)
	}
}

func TestSpooledEventsSurviveAStopAndAreSentOnTheNextStart(t *testing.T) {
	dir := t.TempDir()
	down := newFake(func(int, []amazon.Event) (*amazon.Result, error) { return &amazon.Result{Status: 503}, nil })
	f := New(Config{BatchSize: 500, FlushInterval: time.Millisecond, MaxBackoff: time.Millisecond}, down, openSpool(t, dir))
	for i := 0; i < 300; i++ {
		f.Enqueue(event(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.Stop(ctx)
	if f.Enqueue(event(999)) != Stopped {
		t.Error("Enqueue after Stop accepted the event")
	}

	up := newFake(nil)
	g := start(t, Config{BatchSize: 500, FlushInterval: time.Millisecond}, up, dir)
	g.settle(t, 300)
	seen := map[string]bool{}
	for _, b := range up.batches {
		for _, e := range b {
			seen[e.EventID] = true
		}
	}
	for i := 0; i < 300; i++ {
		if !seen[fmt.Sprintf("ev-%d", i)] {
			t.Fatalf("event ev-%d was lost", i)
		}
	}
	if g.Stats().Spooled != 0 {
		t.Errorf("spool holds %d after delivery", g.Stats().Spooled)
	}
}

func TestEnqueueNeverBlocksWhenTheIntakeIsFull(t *testing.T) {
	// Not started, the forwarder's writer takes nothing from its intake
	// of one: every Enqueue after the first finds it full.
	f := NewDeferred(Config{QueueSize: 1}, newFake(nil), func() (*Spool, error) { return OpenSpool(filepath.Join(t.TempDir(), "s")) })
	defer f.Stop(context.Background())
	outcomes := map[Outcome]int{}
	for i := 0; i < 10000; i++ {
		outcomes[f.Enqueue(event(i))]++
	}
	if outcomes[Queued] != 1 || outcomes[Dropped] != 9999 {
		t.Errorf("outcomes %v, want 1 queued and 9999 dropped", outcomes)
	}
	if st := f.Stats(); st.Queued != 1 || st.Dropped != 9999 {
		t.Errorf("stats %+v", st)
	}
}

func TestEachRejectedEventIsLoggedWithAmazonsReason(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	fake := newFake(func(int, []amazon.Event) (*amazon.Result, error) {
		return &amazon.Result{Status: 207, Rejected: []amazon.Rejection{{Index: 1, Errors: []amazon.FieldError{
			{Code: "FIELD_VALUE_IS_INVALID", FieldLocation: "events[1].countryCode", Message: "unknown country"}}}}}, nil
	})
	f := start(t, Config{BatchSize: 2, FlushInterval: time.Hour, Logger: zap.New(core)}, fake, t.TempDir())
	f.Enqueue(event(0))
	f.Enqueue(event(1))
	f.settle(t, 2)
	entries := logs.FilterMessage("Amazon rejected an event").All()
	if len(entries) != 1 {
		t.Fatalf("%d rejection lines, want 1", len(entries))
	}
	fields := entries[0].ContextMap()
	if fields["event_id"] != "ev-1" || fmt.Sprint(fields["reasons"]) != "[FIELD_VALUE_IS_INVALID at events[1].countryCode: unknown country]" {
		t.Errorf("log fields %v", fields)
	}
}

func TestRefusedEventsGoToTheDeadLetterAndCanBeReplayed(t *testing.T) {
	dir := t.TempDir()
	dl := OpenDeadLetter(filepath.Join(dir, "dead.jsonl"))
	refuse := true
	fake := newFake(func(call int, events []amazon.Event) (*amazon.Result, error) {
		if !refuse {
			return accepted(call, events)
		}
		if call == 0 {
			return &amazon.Result{Status: 207, Rejected: []amazon.Rejection{{Index: 0, Errors: []amazon.FieldError{{Code: "FIELD_VALUE_IS_INVALID", FieldLocation: "events[0].countryCode", Message: "bad"}}}}}, nil
		}
		return &amazon.Result{Status: 403, Code: "FORBIDDEN", Message: "no access to this account"}, nil
	})
	f := start(t, Config{BatchSize: 2, FlushInterval: time.Hour, MaxAge: time.Hour, DeadLetter: dl}, fake, dir)
	old := event(9)
	old.EventTime = time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339Nano)
	f.Enqueue(event(0))
	f.Enqueue(event(1)) // batch 1: event 0 rejected, 1 accepted
	f.Enqueue(event(2))
	f.Enqueue(event(3)) // batch 2: refused as a whole
	f.settle(t, 4)
	f.Enqueue(old)
	f.Enqueue(event(4)) // batch 3: the old one never sent, the other refused
	f.settle(t, 2)

	letters, err := dl.List(0)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, l := range letters {
		reasons[gjson.GetBytes(l.Event, "eventId").String()] = fmt.Sprint(l.Status, " ", l.Reason)
	}
	want := map[string]string{
		"ev-0": "207 FIELD_VALUE_IS_INVALID at events[0].countryCode: bad",
		"ev-2": "403 Amazon refused the batch: 403 FORBIDDEN no access to this account",
		"ev-3": "403 Amazon refused the batch: 403 FORBIDDEN no access to this account",
		"ev-4": "403 Amazon refused the batch: 403 FORBIDDEN no access to this account",
		"ev-9": "0 older than Amazon's 1h0m0s window, or unreadable; never sent",
	}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("dead letter\n got %v\nwant %v", reasons, want)
	}

	refuse = false
	n, err := f.Replay()
	if err != nil || n != 5 {
		t.Fatalf("replayed %d, %v", n, err)
	}
	f.settle(t, 4)
	f.Enqueue(event(5)) // fills the last batch (the flush interval is an hour)
	f.settle(t, 2)      // four replayed sent, the old one dead-lettered again
	if left, _ := dl.List(0); len(left) != 1 || gjson.GetBytes(left[0].Event, "eventId").String() != "ev-9" {
		t.Errorf("dead letter after replay: %v", left)
	}
}

func TestTheSameEventIDWithinTheWindowIsSentOnce(t *testing.T) {
	fake := newFake(nil)
	f := start(t, Config{BatchSize: 10, FlushInterval: time.Millisecond}, fake, t.TempDir())
	if f.Enqueue(event(1)) != Queued || f.Enqueue(event(1)) != Deduped || f.Enqueue(event(2)) != Queued {
		t.Fatal("a double submission was not deduplicated")
	}
	f.settle(t, 2)
	if st := f.Stats(); st.Deduped != 1 || st.Sent != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestDedupeForgetsAfterTheWindowAndPastItsLimit(t *testing.T) {
	d := newDedupe(time.Minute, 3)
	t0 := time.Now()
	if !d.first("a", t0) || d.first("a", t0.Add(59*time.Second)) || !d.first("a", t0.Add(61*time.Second)) {
		t.Error("the window is not honoured")
	}
	for _, id := range []string{"b", "c", "d", "e"} {
		d.first(id, t0.Add(62*time.Second))
	}
	if len(d.seen) > 3 {
		t.Errorf("remembers %d IDs, limit 3", len(d.seen))
	}
	if !d.first("", t0) || !d.first("", t0) {
		t.Error("empty IDs must never count as duplicates")
	}
}

func TestAFullSpoolDropsNewEventsWithOneWarningAndNeverBlocks(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	down := newFake(func(int, []amazon.Event) (*amazon.Result, error) { return &amazon.Result{Status: 503}, nil })
	f := start(t, Config{BatchSize: 500, FlushInterval: time.Hour, SpoolMaxBytes: 20 << 10, Logger: zap.New(core), MaxBackoff: time.Hour}, down, t.TempDir())
	for i := 0; i < 2000; i++ {
		f.Enqueue(event(i))
	}
	// Wait until the writer has handled all 2000: spooled or dropped.
	for f.Stats().Spooled+int(f.Stats().Dropped) < 2000 {
		select {
		case <-f.reports:
		case <-time.After(10 * time.Millisecond):
		}
	}
	st := f.Stats()
	if st.Dropped == 0 || st.SpoolBytes > 20<<10+2<<10 {
		t.Errorf("stats %+v: want drops and a spool near 20 KiB", st)
	}
	if n := logs.FilterMessageSnippet("the spool is full").Len(); n != 1 {
		t.Errorf("%d spool-full warnings, want exactly 1", n)
	}
}

func TestAPanicWhileSendingIsRecoveredAndTheBatchKept(t *testing.T) {
	fake := newFake(func(call int, events []amazon.Event) (*amazon.Result, error) {
		if call == 0 {
			panic("unexpected answer")
		}
		return accepted(call, events)
	})
	f := start(t, Config{BatchSize: 1, FlushInterval: time.Millisecond, MaxBackoff: time.Millisecond}, fake, t.TempDir())
	f.Enqueue(event(1))
	f.settle(t, 1)
	if st := f.Stats(); st.Panics != 1 || st.Sent != 1 {
		t.Errorf("stats %+v, want one panic then the event sent", st)
	}
}

func TestStopWritesInMemoryEventsToTheSpoolWithinItsDeadline(t *testing.T) {
	dir := t.TempDir()
	down := newFake(func(int, []amazon.Event) (*amazon.Result, error) { return &amazon.Result{Status: 503}, nil })
	f := New(Config{BatchSize: 500, FlushInterval: time.Hour, MaxBackoff: time.Hour}, down, openSpool(t, dir))
	for i := 0; i < 5000; i++ {
		f.Enqueue(event(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.Stop(ctx)
	st := f.Stats()
	if st.Spooled+int(st.Dropped) != 5000 || st.Dropped != 0 {
		t.Errorf("after Stop: %d spooled, %d dropped; want all 5000 spooled", st.Spooled, st.Dropped)
	}

	// With a deadline already past, Stop returns at once and counts what
	// it could not spool.
	g := New(Config{BatchSize: 500, FlushInterval: time.Hour, MaxBackoff: time.Hour}, down, openSpool(t, t.TempDir()))
	for i := 0; i < 5000; i++ {
		g.Enqueue(event(i))
	}
	past, cancelPast := context.WithCancel(context.Background())
	cancelPast()
	g.Stop(past)
	if st := g.Stats(); st.Spooled+int(st.Dropped) != 5000 {
		t.Errorf("after a late Stop: %d spooled + %d dropped, want 5000 accounted for", st.Spooled, st.Dropped)
	}
}

// An event Enqueue reports as Queued is kept, even when Stop runs at the
// same moment: either it reaches the spool, or Enqueue says Stopped (and
// the caller hands it to the next forwarder).
func TestAnEventQueuedWhileTheForwarderStopsIsSpooled(t *testing.T) {
	down := newFake(func(int, []amazon.Event) (*amazon.Result, error) { return &amazon.Result{Status: 503}, nil })
	for round := 0; round < 100; round++ {
		dir := t.TempDir()
		f := New(Config{BatchSize: 500, FlushInterval: time.Hour, MaxBackoff: time.Hour, QueueSize: 1024}, down, openSpool(t, dir))
		var queued sync.WaitGroup
		counts := make([]int, 4)
		started := make(chan struct{}, len(counts))
		for w := range counts {
			queued.Add(1)
			go func() {
				defer queued.Done()
				for i := 0; ; i++ {
					switch f.EnqueueFresh(event(w*1_000_000 + i)) {
					case Queued:
						counts[w]++
					case Stopped:
						return
					}
					if i == 10 {
						started <- struct{}{}
					}
				}
			}()
		}
		for range counts {
			<-started
		}
		f.Stop(context.Background())
		queued.Wait()
		want := 0
		for _, n := range counts {
			want += n
		}
		s := openSpool(t, dir)
		got := s.Len()
		s.Close()
		if got != want { // a full intake drops (and says so); that is not checked here
			t.Fatalf("round %d: Enqueue queued %d events, the spool holds %d", round, want, got)
		}
	}
}

// QueueDepth counts an event the writer has taken from the intake and is
// holding while it gathers a transaction: a caller waiting for an empty
// forwarder must not see zero before the event is stored.
func TestQueueDepthCountsEventsTheWriterHolds(t *testing.T) {
	down := newFake(func(int, []amazon.Event) (*amazon.Result, error) { return &amazon.Result{Status: 503}, nil })
	f := New(Config{BatchSize: 500, FlushInterval: time.Hour, MaxBackoff: time.Hour, SpoolLinger: time.Hour}, down, openSpool(t, t.TempDir()))
	if f.EnqueueFresh(event(1)) != Queued {
		t.Fatal("not queued")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(f.intake) > 0 { // the writer takes it, then lingers for an hour
		if time.Now().After(deadline) {
			t.Fatal("the writer never took the event")
		}
		time.Sleep(time.Millisecond)
	}
	if st := f.Stats(); st.QueueDepth != 1 || st.Spooled != 0 {
		t.Errorf("while the writer holds the event: QueueDepth %d, Spooled %d; want 1 and 0", st.QueueDepth, st.Spooled)
	}
	f.Stop(context.Background())
	if st := f.Stats(); st.QueueDepth != 1 || st.Spooled != 1 {
		t.Errorf("after Stop: QueueDepth %d, Spooled %d; want 1 and 1", st.QueueDepth, st.Spooled)
	}
}

// The spool never holds more than SpoolMaxBytes, whatever the size of the
// events: each is measured, not estimated (an estimate of 512 bytes let a
// first transaction of 2 KB events fill three times the limit).
func TestTheSpoolNeverHoldsMoreThanItsMaxSize(t *testing.T) {
	down := newFake(func(int, []amazon.Event) (*amazon.Result, error) { return &amazon.Result{Status: 503}, nil })
	f := start(t, Config{BatchSize: 500, FlushInterval: time.Hour, MaxBackoff: time.Hour, SpoolMaxBytes: 20 << 10, QueueSize: 64, SpoolLinger: time.Hour}, down, t.TempDir())
	for i := 0; i < 64; i++ { // half of them wake the writer: its first transaction holds 32 or more
		e := event(i)
		e.EventID = fmt.Sprintf("%04d-%s", i, strings.Repeat("x", 2000))
		if f.Enqueue(e) != Queued {
			t.Fatalf("event %d not queued", i)
		}
	}
	f.Stop(context.Background()) // the writer stores or drops what it still holds
	if st := f.Stats(); st.SpoolBytes > 20<<10 || st.Dropped == 0 {
		t.Errorf("spool holds %d bytes (%d events), %d dropped; want at most %d bytes", st.SpoolBytes, st.Spooled, st.Dropped, 20<<10)
	}
}

func TestEventsRefusedForAPassingReasonAreSentAgainAndOnlyFinalOnesDeadLettered(t *testing.T) {
	fake := newFake(func(call int, events []amazon.Event) (*amazon.Result, error) {
		if call == 0 { // of 3 events: one refused for good, one for a passing reason
			return &amazon.Result{Status: 207, Accepted: 1, Rejected: []amazon.Rejection{
				{Index: 1, Errors: []amazon.FieldError{{Code: "FIELD_VALUE_IS_INVALID", FieldLocation: "countryCode"}}},
				{Index: 2, Errors: []amazon.FieldError{{Code: "INTERNAL_ERROR"}}},
			}}, nil
		}
		return accepted(call, events)
	})
	dl := OpenDeadLetter(filepath.Join(t.TempDir(), "dead.jsonl"))
	f := start(t, Config{BatchSize: 3, FlushInterval: time.Hour, DeadLetter: dl}, fake, t.TempDir()) // one batch of all three, however late the third comes
	for i := 0; i < 3; i++ {
		f.Enqueue(event(i))
	}
	f.settle(t, 3)
	if sizes := fake.sizes(); len(sizes) != 2 || sizes[1] != 1 || fake.batches[1][0].EventID != "ev-2" {
		t.Errorf("batches %v: want the transiently refused ev-2 sent again alone", sizes)
	}
	st := f.Stats()
	if st.Sent != 2 || st.Rejected != 1 || st.Spooled != 0 {
		t.Errorf("stats %+v, want 2 sent, 1 rejected, none left", st)
	}
	letters, err := dl.List(10)
	if err != nil || len(letters) != 1 || !strings.Contains(string(letters[0].Event), "ev-1") {
		t.Errorf("dead letter %v %v, want ev-1 only", letters, err)
	}
}

func TestTheLastErrorCarriesAmazonsCodeAndMessage(t *testing.T) {
	fake := newFake(func(int, []amazon.Event) (*amazon.Result, error) {
		return &amazon.Result{Status: 403, Code: "FORBIDDEN", Message: "the account does not allow this"}, nil
	})
	f := start(t, Config{BatchSize: 1, FlushInterval: time.Millisecond}, fake, t.TempDir())
	f.Enqueue(event(1))
	f.settle(t, 1)
	if got := f.Stats().LastError; got != "HTTP 403 FORBIDDEN the account does not allow this" {
		t.Errorf("last error %q", got)
	}
}

func TestAnEventAlwaysRefusedForAPassingReasonDoesNotHoldUpTheOthers(t *testing.T) {
	fake := newFake(func(call int, events []amazon.Event) (*amazon.Result, error) {
		res := &amazon.Result{Status: 207}
		for i, e := range events {
			if e.EventID == "ev-0" { // Amazon always has a hiccup with this one
				res.Rejected = append(res.Rejected, amazon.Rejection{Index: i, Errors: []amazon.FieldError{{Code: "INTERNAL_ERROR"}}})
			}
		}
		res.Accepted = len(events) - len(res.Rejected)
		return res, nil
	})
	f := start(t, Config{BatchSize: 1, FlushInterval: time.Millisecond}, fake, t.TempDir())
	for i := 0; i < 4; i++ {
		f.Enqueue(event(i))
	}
	f.settle(t, 3) // the three others are sent, though ev-0 came first
	if l := f.Ledgers()["purchase"]; l.Sent != 3 || l.Pending() != 1 || balance(l) != 0 {
		t.Errorf("ledger %+v", l)
	}
}

func TestAnEventListedTwiceInA207IsCountedOnce(t *testing.T) {
	fake := newFake(func(call int, events []amazon.Event) (*amazon.Result, error) {
		if call > 0 {
			return accepted(call, events)
		}
		return &amazon.Result{Status: 207, Rejected: []amazon.Rejection{
			{Index: 0, Errors: []amazon.FieldError{{Code: "INTERNAL_ERROR"}}},
			{Index: 0, Errors: []amazon.FieldError{{Code: "FIELD_VALUE_IS_INVALID"}}},
			{Index: 7, Errors: []amazon.FieldError{{Code: "FIELD_VALUE_IS_INVALID"}}},
		}}, nil
	})
	dl := OpenDeadLetter(filepath.Join(t.TempDir(), "dead.jsonl"))
	f := start(t, Config{BatchSize: 2, FlushInterval: time.Millisecond, DeadLetter: dl}, fake, t.TempDir())
	f.Enqueue(event(0))
	f.Enqueue(event(1))
	f.settle(t, 2)
	letters, _ := dl.List(10)
	if l := f.Ledgers()["purchase"]; len(letters) != 1 || l.DeadLettered != 1 || l.Sent != 1 || balance(l) != 0 {
		t.Errorf("letters %d, ledger %+v", len(letters), l)
	}
}
