package forward

import (
	"os"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// writerUnderTest is a forwarder whose writer the test drives by hand: no
// goroutines, Amazon never called.
func writerUnderTest(t *testing.T, spoolSync time.Duration) *Forwarder {
	t.Helper()
	f := newForwarder(Config{SpoolSync: spoolSync, SpoolLinger: time.Millisecond}, newFake(nil))
	f.spool = openSpool(t, t.TempDir())
	t.Cleanup(func() { f.spool.Close() })
	return f
}

// writeGroup queues one event and has the writer spool it as a group.
func writeGroup(t *testing.T, f *Forwarder, i int) {
	t.Helper()
	if got := f.Enqueue(event(i)); got != Queued {
		t.Fatalf("Enqueue: %v", got)
	}
	f.spoolGroup(append(make([]pending, 0, maxGroup), <-f.intake))
}

func TestTheWriterFsyncsAtMostOncePerSpoolSync(t *testing.T) {
	f := writerUnderTest(t, time.Hour)
	for i := range 5 {
		writeGroup(t, f, i)
	}
	if got := f.spool.Len(); got != 5 {
		t.Fatalf("%d events spooled, want 5", got)
	}
	if got := f.spool.fsyncs.Load(); got != 1 {
		t.Errorf("5 groups within spool_sync made %d fsyncs, want 1 (the first group's)", got)
	}
}

func TestSpoolSyncAlwaysFsyncsEveryGroup(t *testing.T) {
	f := writerUnderTest(t, -1)
	for i := range 5 {
		writeGroup(t, f, i)
	}
	if got := f.spool.fsyncs.Load(); got != 5 {
		t.Errorf("5 groups with spool_sync always made %d fsyncs, want 5", got)
	}
}

// TestAWriteWithinSpoolSyncIsFsyncedWhenItIsDue runs on synctest's clock:
// on the real one, a loaded machine can take longer than spool_sync between
// the two writes, and the second is then rightly fsynced at once.
func TestAWriteWithinSpoolSyncIsFsyncedWhenItIsDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := writerUnderTest(t, 20*time.Millisecond)
		writeGroup(t, f, 1)
		writeGroup(t, f, 2) // within 20ms of the first fsync: it waits for the next
		if got := f.spool.fsyncs.Load(); got != 1 {
			t.Fatalf("after two quick groups: %d fsyncs, want 1", got)
		}
		select {
		case <-f.pacer.due():
		case <-time.After(10 * time.Second):
			t.Fatal("no fsync came due after a write")
		}
		f.syncSpool()
		if got := f.spool.fsyncs.Load(); got != 2 {
			t.Errorf("after the due fsync: %d fsyncs, want 2", got)
		}
		select {
		case <-f.pacer.due():
			t.Error("an fsync came due again with nothing written since")
		case <-time.After(50 * time.Millisecond):
		}
	})
}

// TestAFailedFsyncIsCountedAndLogged: the writer cannot undo a write whose
// fsync failed (the events were accepted with it), so the operator must
// see it: Stats.SyncFailures and an error line naming the disk.
func TestAFailedFsyncIsCountedAndLogged(t *testing.T) {
	f := writerUnderTest(t, time.Hour)
	core, logs := observer.New(zap.ErrorLevel)
	f.cfg.Logger = zap.New(core)
	writeGroup(t, f, 1)
	writeGroup(t, f, 2) // written, its fsync waits for the next due one
	f.syncSpool()
	if got := f.Stats().SyncFailures; got != 0 {
		t.Fatalf("a good fsync counted %d failures", got)
	}
	writeGroup(t, f, 3)
	f.spool.segments[len(f.spool.segments)-1].file.Close() // its fsync now fails
	f.syncSpool()
	if got := f.Stats().SyncFailures; got != 1 {
		t.Errorf("SyncFailures = %d after a failed fsync, want 1", got)
	}
	if n := logs.FilterMessageSnippet("could not fsync the spool").FilterMessageSnippet("check the disk").Len(); n != 1 {
		t.Errorf("%d error lines about the failed fsync, want 1: %v", n, logs.All())
	}
}

// TestConfigureAppliesTheSpoolAndDedupeOptionsInPlace: a reload's
// spool_sync, spool_max_size and dedupe_window reach the running writer
// and intake, and nothing already spooled is lost by lowering the limit.
func TestConfigureAppliesTheSpoolAndDedupeOptionsInPlace(t *testing.T) {
	f := writerUnderTest(t, time.Hour)
	writeGroup(t, f, 1)
	writeGroup(t, f, 2)
	if got := f.spool.fsyncs.Load(); got != 1 {
		t.Fatalf("spool_sync 1h: %d fsyncs for two groups, want 1", got)
	}

	f.Configure(Config{SpoolSync: -1}) // always
	writeGroup(t, f, 3)
	writeGroup(t, f, 4)
	if got := f.spool.fsyncs.Load(); got != 3 {
		t.Errorf("after spool_sync always: %d fsyncs, want 3 (one per group since)", got)
	}

	f.Configure(Config{SpoolMaxBytes: 1}) // far below what is spooled
	writeGroup(t, f, 5)
	if spooled, dropped := f.spool.Len(), f.Stats().Dropped; spooled != 4 || dropped != 1 {
		t.Errorf("after lowering spool_max_size: %d spooled, %d dropped; want the 4 kept and the new one dropped", spooled, dropped)
	}
	f.Configure(Config{}) // the default, 1 GiB
	writeGroup(t, f, 6)
	if spooled := f.spool.Len(); spooled != 5 {
		t.Errorf("after raising spool_max_size: %d spooled, want 5", spooled)
	}

	if got := f.Enqueue(event(6)); got != Deduped {
		t.Fatalf("the default dedupe window let event 6 in twice: %v", got)
	}
	f.Configure(Config{DedupeWindow: -1}) // off
	if got := f.Enqueue(event(6)); got != Queued {
		t.Errorf("with dedupe_window off, event 6 again was %v, want queued", got)
	}
	f.Configure(Config{}) // on again, having forgotten event 6
	first, again := f.Enqueue(event(6)), f.Enqueue(event(6))
	if first != Queued || again != Deduped {
		t.Errorf("dedupe off, then on again: event 6 was %v, then %v; want queued (forgotten), then deduped", first, again)
	}
	if got := f.Settings(); got.SpoolSync != DefaultSpoolSync || got.SpoolMaxBytes != 1<<30 || got.DedupeWindow != 10*time.Minute {
		t.Errorf("Settings after Configure(Config{}) = %+v, want the defaults", got)
	}
}

// TestAShorterSpoolSyncDoesNotWaitForTheOldOnesTimer: a write that armed
// the fsync for spool_sync 1h, then a reload to 20ms: the next write is
// fsynced within 20ms, not an hour later.
func TestAShorterSpoolSyncDoesNotWaitForTheOldOnesTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := writerUnderTest(t, time.Hour)
		writeGroup(t, f, 1)
		writeGroup(t, f, 2) // arms the fsync for an hour after the first
		f.Configure(Config{SpoolSync: 20 * time.Millisecond})
		writeGroup(t, f, 3)
		select {
		case <-f.pacer.due():
		case <-time.After(time.Second):
			t.Fatal("no fsync came due within a second of a write with spool_sync 20ms")
		}
		f.syncSpool()
		if got := f.spool.fsyncs.Load(); got != 2 {
			t.Errorf("%d fsyncs, want 2 (the first group's and the due one)", got)
		}
	})
}

// TestAFullDiskIsSaidOnceAndItsEndToo: while the spool's writes fail (a
// full disk, here a segment file that refuses writes) every event is
// dropped and counted, with one warning when it starts and one info line
// when writes succeed again, not a line per write.
func TestAFullDiskIsSaidOnceAndItsEndToo(t *testing.T) {
	f := writerUnderTest(t, time.Hour)
	core, logs := observer.New(zap.InfoLevel)
	f.cfg.Logger = zap.New(core)
	writeGroup(t, f, 0)
	active := f.spool.segments[len(f.spool.segments)-1]
	good := active.file
	broken, err := os.Open(good.Name()) // read-only: every write fails
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Close()
	active.file = broken
	for i := 1; i <= 5; i++ {
		writeGroup(t, f, i)
	}
	if got := f.Stats().Dropped; got != 5 {
		t.Errorf("%d events dropped while writes failed, want 5", got)
	}
	if n := logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("could not write events to the spool").Len(); n != 1 || logs.Len() != 1 {
		t.Errorf("%d warnings (%d lines) for 5 failed writes, want 1: %v", n, logs.Len(), logs.All())
	}
	active.file = good
	writeGroup(t, f, 6)
	writeGroup(t, f, 7)
	if n := logs.FilterLevelExact(zap.InfoLevel).FilterMessageSnippet("the spool is written again").Len(); n != 1 || logs.Len() != 2 {
		t.Errorf("%d info lines once writes succeed again (%d lines in all), want 1: %v", n, logs.Len(), logs.All())
	}
	if got := f.spool.Len(); got != 3 {
		t.Errorf("%d events spooled, want 3 (before and after the failures)", got)
	}
}
