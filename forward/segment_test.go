package forward

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// appendN spools events from..to-1 in one write.
func appendN(t testing.TB, s *Spool, from, to int) {
	t.Helper()
	batch := make([]amazon.Event, 0, to-from)
	for i := from; i < to; i++ {
		batch = append(batch, event(i))
	}
	if err := s.Append(encode(batch...), time.Now()); err != nil {
		t.Fatal(err)
	}
}

// ids returns the IDs of the spool's records, oldest first.
func ids(t testing.TB, s *Spool) []string {
	t.Helper()
	recs, err := s.Oldest(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID()
	}
	return out
}

// lastSegment is the path of the spool's newest segment file.
func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	nums, err := segmentNumbers(dir)
	if err != nil || len(nums) == 0 {
		t.Fatalf("segments: %v %v", nums, err)
	}
	return filepath.Join(dir, fmt.Sprintf("%016x%s", nums[len(nums)-1], segmentExt))
}

// A write the process died in the middle of (a frame cut short, or one
// whose bytes are wrong) is cut off when the spool opens again; everything
// written before it is kept, and writing goes on after it.
func TestATornWriteIsCutAndWhatCameBeforeItIsKept(t *testing.T) {
	for name, tail := range map[string]func(whole []byte) []byte{
		"cut short":     func(whole []byte) []byte { return whole[:len(whole)/2] },
		"wrong bytes":   func(whole []byte) []byte { w := append([]byte(nil), whole...); w[len(w)-3] ^= 0xff; return w },
		"zeros":         func([]byte) []byte { return make([]byte, 4096) },
		"a bare header": func(whole []byte) []byte { return whole[:frameHeader] },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := openSpool(t, dir)
			appendN(t, s, 0, 10)
			seg := lastSegment(t, s.Path())
			before, _ := os.ReadFile(seg)
			appendN(t, s, 10, 20)
			after, _ := os.ReadFile(seg)
			s.Close()
			torn := append(append([]byte(nil), before...), tail(after[len(before):])...)
			if err := os.WriteFile(seg, torn, 0o600); err != nil {
				t.Fatal(err)
			}
			s = openSpool(t, dir)
			defer s.Close()
			if got := ids(t, s); len(got) != 10 || got[9] != "ev-9" || s.Len() != 10 {
				t.Fatalf("after the torn write: %v (Len %d)", got, s.Len())
			}
			d := s.Damage()
			if len(d) != 1 || d[0].Reason != LostTornTail || d[0].Offset != int64(len(before)) || d[0].Bytes != int64(len(torn)-len(before)) {
				t.Fatalf("damage %+v, want a torn tail of %d bytes at %d", d, len(torn)-len(before), len(before))
			}
			if wantExact := name == "wrong bytes"; d[0].Exact != wantExact || wantExact && d[0].Events != 10 || d[0].Events > 10 {
				t.Errorf("events lost %d (exact %v), want 10 exactly for a frame whose entries still parse, else a lower bound", d[0].Events, d[0].Exact)
			}
			appendN(t, s, 20, 21)
			if got := ids(t, s); len(got) != 11 || got[10] != "ev-20" {
				t.Fatalf("written after the cut: %v", got)
			}
		})
	}
}

// What was removed stays removed, and what was moved to the back stays at
// the back, after the spool is opened again.
func TestRemovalsAndMovesSurviveAReopen(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	appendN(t, s, 0, 6)
	recs, _ := s.Oldest(6)
	if err := s.Remove([]Record{recs[0], recs[2]}); err != nil {
		t.Fatal(err)
	}
	if err := s.moveToBack([]Record{recs[1]}, time.Now()); err != nil {
		t.Fatal(err)
	}
	want := "ev-3 ev-4 ev-5 ev-1"
	if got := strings.Join(ids(t, s), " "); got != want {
		t.Fatalf("before reopening: %s, want %s", got, want)
	}
	s.Close()
	s = openSpool(t, dir)
	defer s.Close()
	if got := strings.Join(ids(t, s), " "); got != want || s.Len() != 4 {
		t.Fatalf("after reopening: %s (Len %d), want %s", got, s.Len(), want)
	}
	if c := s.CountsByName(); c["purchase"] != 4 || len(c) != 1 {
		t.Errorf("counts by name %v", c)
	}
	recs, _ = s.Oldest(1)
	if err := s.Remove(recs); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 6, 7)
	if got := strings.Join(ids(t, s), " "); got != "ev-4 ev-5 ev-1 ev-6" {
		t.Fatalf("removing and adding after reopening: %s", got)
	}
}

// The spool's files stay within one segment of what it holds: a segment
// goes once every event in it was removed, and a drained spool keeps one
// file.
func TestSegmentsGoOnceEverythingInThemIsRemoved(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	for i := 0; i < 12_000; i += 500 {
		appendN(t, s, i, i+500)
	}
	pad := make([]byte, 64<<10)
	for i := range pad {
		pad[i] = 'x'
	}
	big := []byte(`{"eventId":"big","eventDescription":{"name":"purchase"},"pad":"` + string(pad) + `"}`)
	for i := 0; i < 2*segmentSize/len(big)+10; i++ { // past two segments
		if err := s.Append([]json.RawMessage{big}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := segmentNumbers(s.Path()); len(n) < 3 {
		t.Fatalf("%d segments, want 3 or more", len(n))
	}
	first, _ := s.Oldest(7000)
	if err := s.Remove(first); err != nil {
		t.Fatal(err)
	}
	total := s.Len()
	s.Close()
	s = openSpool(t, dir)
	defer s.Close()
	if got := ids(t, s); s.Len() != total || got[0] != "ev-7000" || got[len(got)-1] != "big" {
		t.Fatalf("reopened with %d records (want %d), first %s", s.Len(), total, got[0])
	}
	for s.Len() > 0 {
		recs, err := s.Oldest(500)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(recs); err != nil {
			t.Fatal(err)
		}
		if used := diskUse(t, s.Path()); used > s.Bytes()+segmentSize+1<<20 {
			t.Fatalf("%d bytes on disk for %d spooled", used, s.Bytes())
		}
	}
	if n, _ := segmentNumbers(s.Path()); len(n) != 1 {
		t.Fatalf("a drained spool keeps %d segments, want 1", len(n))
	}
}

// diskUse is the size of the files in dir.
func diskUse(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, f := range files {
		if info, err := f.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}

// Only one holder at a time: a second open of the same spool fails with an
// error that says what to do.
func TestASpoolIsOpenedByOneHolderAtATime(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	_, err := OpenSpool(filepath.Join(dir, "spool"))
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second open: %v", err)
	}
	s.Close()
	s2 := openSpool(t, dir)
	s2.Close()
}

// Whatever bytes follow the log's last whole frame (a torn write, a
// damaged disk), opening the spool never fails or panics, keeps every
// event written before them, and can write after them.
func FuzzSpoolOpensWhateverFollowsItsLog(f *testing.F) {
	f.Add(uint16(0), byte(0), []byte{})
	f.Add(uint16(0), byte(0), []byte{0, 0, 0, 20, 1, 2, 3, 4, 'P'})
	f.Add(uint16(0), byte(0), []byte{0, 0, 0, 9, 0x12, 0x34, 0x56, 0x78, 'D', 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(uint16(3), byte(0x10), []byte{})
	f.Add(uint16(5000), byte(0xff), []byte{1, 2})
	f.Add(uint16(12000), byte(1), []byte{})
	f.Fuzz(func(t *testing.T, at uint16, xor byte, tail []byte) {
		const frames, per = 12, 3
		dir := t.TempDir()
		s := openSpool(t, dir)
		fs := writeFrames(t, s, frames, per, 4<<10)
		s.Close()
		damageAnywhere(t, fs, int(at), xor)
		file, err := os.OpenFile(fs[len(fs)-1].segment, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		file.Write(tail)
		file.Close()

		s = openSpool(t, dir)
		got := ids(t, s)
		kept := keptInOrder(t, got, frames*per)
		var lost uint64
		exact := true
		for _, d := range s.Damage() {
			lost += d.Events
			exact = exact && d.Exact
		}
		// One byte damages one frame at most: every other event is kept,
		// and what is lost is counted (exactly, or as a lower bound).
		if kept < frames*per-per || exact && uint64(kept)+lost != frames*per || uint64(kept)+lost > frames*per {
			t.Fatalf("kept %d of %d, lost %d (exact %v): %+v", kept, frames*per, lost, exact, s.Damage())
		}
		appendN(t, s, 1000, 1001)
		s.Close()
		s = openSpool(t, dir)
		defer s.Close()
		if got2 := ids(t, s); len(got2) != len(got)+1 || got2[len(got2)-1] != "ev-1000" {
			t.Fatalf("writing after the damage: %d then %d records", len(got), len(got2))
		}
		if d := s.Damage(); len(d) != 0 {
			t.Fatalf("damage found again after its repair: %+v", d)
		}
	})
}

// damageAnywhere xors one byte of the log's segments, taken end to end.
func damageAnywhere(t *testing.T, fs []writtenFrame, at int, xor byte) {
	t.Helper()
	if xor == 0 {
		return
	}
	var segs []writtenFrame
	total := 0
	for i, f := range fs {
		if i == len(fs)-1 || fs[i+1].segment != f.segment {
			segs = append(segs, f)
			total += f.end
		}
	}
	at %= total
	for _, f := range segs {
		if at < f.end {
			data, err := os.ReadFile(f.segment)
			if err != nil {
				t.Fatal(err)
			}
			data[at] ^= xor
			if err := os.WriteFile(f.segment, data, 0o600); err != nil {
				t.Fatal(err)
			}
			return
		}
		at -= f.end
	}
}

// keptInOrder checks that the IDs read include the spooled events
// ev-0..ev-(n-1) in order, each once, and returns how many of them.
func keptInOrder(t *testing.T, got []string, n int) int {
	t.Helper()
	kept, last := 0, -1
	for _, id := range got {
		var i int
		if _, err := fmt.Sscanf(id, "ev-%d", &i); err != nil || i >= n {
			continue // a record the fuzzer's tail made
		}
		if i <= last {
			t.Fatalf("ev-%d after ev-%d: %v", i, last, got)
		}
		kept, last = kept+1, i
	}
	return kept
}

// Sequence numbers go on after a restart, also when every record was
// removed, their segment deleted, and only a segment of tombstones is left.
func TestSequenceNumbersGoOnAfterAReopen(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	appendN(t, s, 0, 3)
	s.writeMu.Lock()
	_, err := s.newSegment(2, s.nextSeq) // the next write starts a segment, as when one is full
	s.writeMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := s.Oldest(3)
	if err := s.Remove(recs); err != nil {
		t.Fatal(err)
	}
	if n, _ := segmentNumbers(s.Path()); len(n) != 1 || n[0] != 2 {
		t.Fatalf("segments %v, want only the tombstones' [2]", n)
	}
	s.Close()
	s = openSpool(t, dir)
	defer s.Close()
	appendN(t, s, 3, 4)
	recs, _ = s.Oldest(1)
	if len(recs) != 1 || recs[0].Seq <= 3 {
		t.Fatalf("after reopening, the new record: %d records, Seq %v, want one above 3", len(recs), recs)
	}
}

// Writing to a closed spool is an error, not a panic.
func TestWritingToAClosedSpoolIsAnError(t *testing.T) {
	s := openSpool(t, t.TempDir())
	s.Close()
	if err := s.Append(encode(event(1)), time.Now()); err == nil {
		t.Error("no error")
	}
}

// Records Amazon has answered for leave the spool even when their
// tombstone cannot be written (a full disk, here a file that fails every
// write): the error is returned, and their segments can still go.
func TestARemovalWhoseTombstoneFailsStillLeavesTheSpool(t *testing.T) {
	s := openSpool(t, t.TempDir())
	appendN(t, s, 0, 5)
	recs, _ := s.Oldest(5)
	s.mu.Lock()
	active := s.segments[len(s.segments)-1]
	s.mu.Unlock()
	good := active.file
	broken, err := os.Open(good.Name()) // read-only: every write fails
	if err != nil {
		t.Fatal(err)
	}
	active.file = broken
	err = s.Remove(recs[:3])
	active.file = good
	broken.Close()
	defer s.Close()
	if err == nil {
		t.Error("Remove hid the failed write")
	}
	if got := ids(t, s); s.Len() != 2 || len(got) != 2 || got[0] != "ev-3" {
		t.Fatalf("after the failed tombstone: %v (Len %d), want ev-3 ev-4", got, s.Len())
	}
}

// OldestQueued is the queued time of the oldest event still spooled, and
// zero for an empty spool.
func TestOldestQueuedIsTheOldestSpooledEventsTime(t *testing.T) {
	s := openSpool(t, t.TempDir())
	defer s.Close()
	if at, err := s.OldestQueued(); err != nil || !at.IsZero() {
		t.Fatalf("empty spool: %v, %v", at, err)
	}
	first, second := time.UnixMilli(1_700_000_000_000), time.UnixMilli(1_700_000_060_000)
	if err := s.Append(encode(event(1)), first); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(encode(event(2)), second); err != nil {
		t.Fatal(err)
	}
	recs, _ := s.Oldest(1)
	if err := s.Remove(recs); err != nil {
		t.Fatal(err)
	}
	if at, err := s.OldestQueued(); err != nil || !at.Equal(second) {
		t.Fatalf("after removing the first: %v, %v; want %v", at, err, second)
	}
}
