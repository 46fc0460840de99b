package forward

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

func letter(i int) Letter {
	return Letter{Time: time.Now(), Reason: "refused", Code: "X", Event: json.RawMessage(fmt.Sprintf(`{"eventId":"dl-%d","eventDescription":{"name":"purchase"}}`, i))}
}

// The dead letter keeps at most its limit: letters past it are refused,
// the first ones kept, and the file does not grow.
func TestTheDeadLetterStopsAtItsLimit(t *testing.T) {
	d := OpenDeadLetter(filepath.Join(t.TempDir(), "dead.jsonl"))
	d.maxBytes = 4 << 10
	total := 0
	for i := 0; i < 100; i++ {
		kept, err := d.Add([]Letter{letter(2 * i), letter(2*i + 1)})
		total += kept
		if err != nil && !errors.Is(err, ErrDeadLetterFull) {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(d.Path())
	if err != nil || info.Size() > d.maxBytes {
		t.Fatalf("the file is %d bytes, its limit %d (%v)", info.Size(), d.maxBytes, err)
	}
	got, _ := d.List(0)
	if len(got) != total || total == 0 || total >= 200 || string(got[0].Event) != string(letter(0).Event) {
		t.Fatalf("%d letters kept, %d listed; want the first ones, fewer than 200", total, len(got))
	}
}

// A letter keeps at most a bounded prefix of its reason (Amazon's message,
// or what a proxy answered).
func TestALetterKeepsABoundedReason(t *testing.T) {
	d := OpenDeadLetter(filepath.Join(t.TempDir(), "dead.jsonl"))
	l := letter(1)
	l.Reason = strings.Repeat("é", 10_000)
	if _, err := d.Add([]Letter{l}); err != nil {
		t.Fatal(err)
	}
	got, _ := d.List(0)
	if len(got) != 1 || len(got[0].Reason) > maxLetterReason+len("…") || !strings.HasSuffix(got[0].Reason, "…") || !json.Valid([]byte(`"`+got[0].Reason+`"`)) {
		t.Fatalf("reason of %d bytes kept: %.40q", len(got[0].Reason), got[0].Reason)
	}
}

// Replay reads the file a chunk at a time; when put fails, what it had
// not taken stays in the file, in order, and a line that is not a letter
// is kept, never replayed.
func TestReplayStreamsAndKeepsWhatWasNotTaken(t *testing.T) {
	d := OpenDeadLetter(filepath.Join(t.TempDir(), "dead.jsonl"))
	const n = 3*replayChunk + 10
	for i := 0; i < n; i++ {
		if i == 7 {
			f, _ := os.OpenFile(d.Path(), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("not a letter\n")
			f.Close()
		}
		if _, err := d.Add([]Letter{letter(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var chunks []int
	refuse := errors.New("spool full")
	taken, err := d.Take(func(ls []Letter) error {
		if len(ls) > replayChunk {
			t.Fatalf("a chunk of %d letters", len(ls))
		}
		if len(chunks) == 2 {
			return refuse
		}
		chunks = append(chunks, len(ls))
		return nil
	})
	if !errors.Is(err, refuse) || taken != 2*replayChunk {
		t.Fatalf("took %d (%v), want %d and the refusal", taken, err, 2*replayChunk)
	}
	left, _ := d.List(0)
	if len(left) != n-2*replayChunk || string(left[0].Event) != string(letter(2*replayChunk).Event) {
		t.Fatalf("%d letters left, first %s; want %d from dl-%d", len(left), left[0].Event, n-2*replayChunk, 2*replayChunk)
	}
	taken, err = d.Take(func([]Letter) error { return nil })
	if taken != n-2*replayChunk || err == nil || !strings.Contains(err.Error(), "not letters") {
		t.Fatalf("second replay took %d (%v)", taken, err)
	}
	raw, _ := os.ReadFile(d.Path())
	if string(raw) != "not a letter\n" {
		t.Fatalf("the file keeps %q, want the unreadable line alone", raw)
	}
}

// A full dead letter drops what it refuses: counted as dropped in the
// stats and the ledger (nothing unaccounted), said once in a warning.
func TestAFullDeadLetterDropsCountsAndSaysSoOnce(t *testing.T) {
	dir := t.TempDir()
	dl := OpenDeadLetter(filepath.Join(dir, "dead.jsonl"))
	dl.maxBytes = 1 << 10
	core, logs := observer.New(zap.WarnLevel)
	fake := newFake(func(int, []amazon.Event) (*amazon.Result, error) {
		return &amazon.Result{Status: 400, Code: "BAD", Message: "refused"}, nil
	})
	f := start(t, Config{BatchSize: 1, FlushInterval: time.Hour, DeadLetter: dl, Logger: zap.New(core)}, fake, dir)
	for i := range 20 {
		f.Enqueue(event(i))
	}
	f.settle(t, 20)
	letters, _ := dl.List(0)
	st := f.Stats()
	if len(letters) == 0 || len(letters) == 20 || st.Dropped != uint64(20-len(letters)) {
		t.Fatalf("%d letters kept, %d dropped; want the rest of 20 dropped", len(letters), st.Dropped)
	}
	if n := logs.FilterMessageSnippet("the dead letter is full").Len(); n != 1 {
		t.Errorf("%d warnings about the full dead letter, want 1: %v", n, logs.All())
	}
	l := f.Ledgers()["purchase"]
	if l.Dropped != st.Dropped || l.DeadLettered != uint64(len(letters)) || l.InMemory != 0 || l.Spooled != 0 {
		t.Errorf("ledger %+v", l)
	}
}

// Amazon's error codes become a metric's reason label only when Amazon's
// schema lists them: a proxy's made-up codes are counted as "other" (one
// series, not one per code) and the first is logged, cut short.
func TestRejectReasonsAreAFixedSet(t *testing.T) {
	for code, want := range map[string]string{
		"FIELD_VALUE_IS_INVALID": "FIELD_VALUE_IS_INVALID", "TOO_OLD": "TOO_OLD", "HTTP_400": "HTTP_400", "HTTP_503": "HTTP_503",
		"MADE_UP": "other", "HTTP_4000": "other", "HTTP_abc": "other", "": "other", strings.Repeat("X", 5000): "other",
	} {
		if got := rejectReason(code); got != want {
			t.Errorf("rejectReason(%.20q) = %q, want %q", code, got, want)
		}
	}
	dir := t.TempDir()
	core, logs := observer.New(zap.WarnLevel)
	fake := newFake(func(_ int, events []amazon.Event) (*amazon.Result, error) {
		var rej []amazon.Rejection
		for i := range events {
			code := fmt.Sprintf("MADE_UP_%d_%s", i, strings.Repeat("Z", 500))
			if i == 0 {
				code = "FIELD_VALUE_IS_INVALID"
			}
			rej = append(rej, amazon.Rejection{Index: i, Errors: []amazon.FieldError{{Code: code, Message: "no"}}})
		}
		return &amazon.Result{Status: 207, Rejected: rej}, nil
	})
	f := start(t, Config{BatchSize: 3, FlushInterval: time.Hour, DeadLetter: OpenDeadLetter(filepath.Join(dir, "dead.jsonl")), Logger: zap.New(core)}, fake, dir)
	for i := range 3 {
		f.Enqueue(event(i))
	}
	f.settle(t, 3)
	if got := f.Ledgers()["purchase"].Rejected; fmt.Sprint(got) != "map[FIELD_VALUE_IS_INVALID:1 other:2]" {
		t.Errorf("rejected by reason %v", got)
	}
	lines := logs.FilterMessageSnippet("does not list").All()
	if len(lines) != 1 || len(lines[0].ContextMap()["code"].(string)) > 70 {
		t.Errorf("log lines about unknown codes: %v", lines)
	}
}
