package forward

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
)

// writtenFrame is where one appendN's frame went, and the events in it.
type writtenFrame struct {
	segment   string
	off, end  int
	from, to  int // events from..to-1
	segNumber int
}

// writeFrames spools frames of perFrame events each into segments of
// about segBytes, and says where each frame went.
func writeFrames(t *testing.T, s *Spool, frames, perFrame int, segBytes int64) []writtenFrame {
	t.Helper()
	s.maxSegment = segBytes
	var out []writtenFrame
	for i := 0; i < frames; i++ {
		from := i * perFrame
		appendN(t, s, from, from+perFrame)
		seg := s.segments[len(s.segments)-1]
		out = append(out, writtenFrame{segment: seg.file.Name(), end: int(seg.size), from: from, to: from + perFrame, segNumber: len(s.segments) - 1})
	}
	for i := range out {
		if i > 0 && out[i].segment == out[i-1].segment {
			out[i].off = out[i-1].end
		}
	}
	return out
}

// flip xors one byte of a file.
func flip(t *testing.T, name string, at int) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	data[at] ^= 0x5a
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// evIDs lists ev-from..ev-to-1 less the events of the frames lost.
func evIDs(total int, lost ...writtenFrame) []string {
	var out []string
	for i := 0; i < total; i++ {
		gone := false
		for _, f := range lost {
			gone = gone || i >= f.from && i < f.to
		}
		if !gone {
			out = append(out, fmt.Sprintf("ev-%d", i))
		}
	}
	return out
}

// One damaged frame costs its own events and no others, wherever it is and
// whichever of its bytes is wrong; the loss is counted exactly, once, and
// the segment's original bytes are kept aside until it is deleted.
func TestADamagedFrameCostsItsOwnEventsAndNoOthers(t *testing.T) {
	const frames, per = 40, 5
	where := map[string]func(t *testing.T, fs []writtenFrame) []writtenFrame{
		"a middle frame of a segment": func(t *testing.T, fs []writtenFrame) []writtenFrame {
			return []writtenFrame{middleOf(t, fs, fs[0].segNumber)}
		},
		"the first frame of a segment after the first": func(t *testing.T, fs []writtenFrame) []writtenFrame {
			return []writtenFrame{firstOf(t, fs, 1)}
		},
		"the last frame of a segment that is not the last": func(t *testing.T, fs []writtenFrame) []writtenFrame {
			return []writtenFrame{lastOf(t, fs, 1)}
		},
		"the first frame of the log": func(t *testing.T, fs []writtenFrame) []writtenFrame { return []writtenFrame{fs[0]} },
		"two frames in two segments": func(t *testing.T, fs []writtenFrame) []writtenFrame {
			return []writtenFrame{middleOf(t, fs, 0), middleOf(t, fs, 2)}
		},
		"two frames one after the other": func(t *testing.T, fs []writtenFrame) []writtenFrame {
			m := middleOf(t, fs, 1)
			i := slices.IndexFunc(fs, func(f writtenFrame) bool { return f == m })
			if fs[i+1].segment != m.segment {
				t.Fatal("no frame after the middle one in its segment")
			}
			return []writtenFrame{m, fs[i+1]}
		},
	}
	which := map[string]func(f writtenFrame) int{
		"a record":             func(f writtenFrame) int { return f.off + frameHeader + putHeader + storedHeader + 10 },
		"the checksum":         func(f writtenFrame) int { return f.off + 5 },
		"the length's low end": func(f writtenFrame) int { return f.off + 3 },
		"the length's top":     func(f writtenFrame) int { return f.off },
		"a record's number":    func(f writtenFrame) int { return f.off + frameHeader + 1 },
	}
	for wname, pick := range where {
		for bname, at := range which {
			t.Run(wname+"/"+bname, func(t *testing.T) {
				dir := t.TempDir()
				s := openSpool(t, dir)
				fs := writeFrames(t, s, frames, per, 12<<10)
				if fs[len(fs)-1].segNumber < 3 {
					t.Fatalf("only %d segments", fs[len(fs)-1].segNumber+1)
				}
				s.Close()
				lost := pick(t, fs)
				for _, f := range lost {
					flip(t, f.segment, at(f))
				}

				s = openSpool(t, dir)
				if got, want := ids(t, s), evIDs(frames*per, lost...); !slices.Equal(got, want) {
					t.Fatalf("kept %d events %v\nwant %d %v", len(got), got, len(want), want)
				}
				var events uint64
				for _, d := range s.Damage() {
					if d.Reason != LostDamagedFrame {
						t.Errorf("reason %q, want %q", d.Reason, LostDamagedFrame)
					}
					events += d.Events
				}
				exact := wname != "the first frame of the log" || bname == "a record" || bname == "the checksum"
				if exact && events != uint64(len(lost)*per) || events > uint64(len(lost)*per) {
					t.Errorf("damage %+v: %d events lost, want %d (exact: %v)", s.Damage(), events, len(lost)*per, exact)
				}
				if _, err := os.Stat(lost[0].segment + damagedExt); err != nil {
					t.Errorf("the damaged segment's bytes were not kept aside: %v", err)
				}
				appendN(t, s, 1000, 1001)
				s.Close()

				s = openSpool(t, dir) // repaired: nothing found twice
				defer s.Close()
				if d := s.Damage(); len(d) != 0 {
					t.Errorf("found again after the repair: %+v", d)
				}
				want := append(evIDs(frames*per, lost...), "ev-1000")
				if got := ids(t, s); !slices.Equal(got, want) {
					t.Fatalf("after the repair, kept %v\nwant %v", got, want)
				}
				drain(t, s)
				if _, err := os.Stat(lost[0].segment + damagedExt); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the bytes kept aside outlive their segment: %v", err)
				}
			})
		}
	}
}

// A damaged frame whose events Amazon had already taken (their removal is
// in the log after it) loses nothing: its loss is counted as 0.
func TestADamagedFrameOfDeliveredEventsLosesNothing(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir)
	fs := writeFrames(t, s, 12, 5, 12<<10)
	f := middleOf(t, fs, 0)
	recs, err := s.Oldest(f.to)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(recs[f.from:f.to]); err != nil {
		t.Fatal(err)
	}
	s.Close()
	flip(t, f.segment, f.off+frameHeader+putHeader+storedHeader+10)
	s = openSpool(t, dir)
	defer s.Close()
	d := s.Damage()
	if len(d) != 1 || d[0].Events != 0 || !d[0].Exact {
		t.Fatalf("damage %+v, want one with 0 events lost, exactly", d)
	}
	if got, want := ids(t, s), evIDs(60, f); !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
}

// drain removes everything from the spool.
func drain(t *testing.T, s *Spool) {
	t.Helper()
	for s.Len() > 0 {
		recs, err := s.Oldest(100)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(recs); err != nil {
			t.Fatal(err)
		}
	}
}

func framesOf(t *testing.T, fs []writtenFrame, seg int) []writtenFrame {
	t.Helper()
	var out []writtenFrame
	for _, f := range fs {
		if f.segNumber == seg {
			out = append(out, f)
		}
	}
	if len(out) < 3 {
		t.Fatalf("segment %d has %d frames, want 3 or more", seg, len(out))
	}
	return out
}

func firstOf(t *testing.T, fs []writtenFrame, seg int) writtenFrame { return framesOf(t, fs, seg)[0] }
func middleOf(t *testing.T, fs []writtenFrame, seg int) writtenFrame {
	in := framesOf(t, fs, seg)
	return in[len(in)/2]
}
func lastOf(t *testing.T, fs []writtenFrame, seg int) writtenFrame {
	in := framesOf(t, fs, seg)
	return in[len(in)-1]
}
