package forward

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

func TestADeferredForwarderTakesEventsAtOnceAndSpoolsThemWhenItStarts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spool")
	opened := 0
	fake := newFake(nil)
	reports := make(chan BatchReport, 10)
	f := NewDeferred(Config{AfterBatch: func(r BatchReport) { reports <- r }}, fake, func() (*Spool, error) {
		opened++
		return OpenSpool(path)
	})
	defer f.Stop(context.Background())
	for i := 0; i < 3; i++ {
		if o := f.Enqueue(event(i)); o != Queued {
			t.Fatalf("enqueue before Start: %v", o)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the spool exists before Start: %v", err)
	}
	if st := f.Stats(); st.QueueDepth != 3 || st.Spooled != 0 {
		t.Errorf("before Start: %+v", st)
	}
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(); err != nil || opened != 1 {
		t.Fatalf("a second Start: %v, spool opened %d times", err, opened)
	}
	started{f, reports}.settle(t, 3)
}

func TestADeferredForwarderStoppedUnstartedOpensNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	f := NewDeferred(Config{}, newFake(nil), func() (*Spool, error) { return OpenSpool(path) })
	f.Stop(context.Background())
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Stop of a forwarder that never started created its spool: %v", err)
	}
	if o := f.Enqueue(event(1)); o != Stopped {
		t.Errorf("enqueue after Stop: %v", o)
	}
	if err := f.Start(); err == nil {
		t.Error("Start after Stop succeeded")
	}
}

func TestADeferredForwarderStoppedWithEventsWaitingSpoolsThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	f := NewDeferred(Config{}, newFake(func(int, []amazon.Event) (*amazon.Result, error) { return nil, errors.New("down") }),
		func() (*Spool, error) { return OpenSpool(path) })
	f.Enqueue(event(1))
	f.Enqueue(event(2))
	f.Stop(context.Background())
	s, err := OpenSpool(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != 2 {
		t.Errorf("the spool holds %d events, want 2", s.Len())
	}
}

func TestADeferredForwarderWhoseSpoolCannotOpenCountsItsEventsDropped(t *testing.T) {
	f := NewDeferred(Config{}, newFake(nil), func() (*Spool, error) { return nil, errors.New("read-only file system") })
	f.Enqueue(event(1))
	if err := f.Start(); err == nil {
		t.Fatal("Start succeeded without a spool")
	}
	f.Stop(context.Background())
	if st := f.Stats(); st.Dropped != 1 || st.QueueDepth != 0 {
		t.Errorf("stats %+v", st)
	}
}
