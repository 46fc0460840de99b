package forward

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// DeadLetter keeps the events Amazon refused or that can never be sent, one
// JSON object per line, with the reason. Events hold hashed match keys only,
// so the file holds no raw PII and no secret. Its events can be sent again
// (Replay). The file holds at most MaxDeadLetterBytes: one public request
// can add a line (an event too old, a value Amazon refuses), so past the
// limit letters are refused (ErrDeadLetterFull) and the caller counts them.
type DeadLetter struct {
	mu       sync.Mutex
	path     string
	maxBytes int64
}

// MaxDeadLetterBytes is the most a dead letter file holds: about 100,000
// refused events, far more than a shop has between two looks at it.
const MaxDeadLetterBytes = 64 << 20

// ErrDeadLetterFull is what Add returns for letters past the file's limit.
var ErrDeadLetterFull = errors.New("the dead letter is full (64 MiB): replay or move it (POST /amazon_capi/replay)")

// maxLetterReason is the most of a reason a letter keeps: Amazon's message
// or a proxy's answer, not the whole of it.
const maxLetterReason = 1 << 10

// Letter is one dead-lettered event.
type Letter struct {
	// Time is when it was dead-lettered.
	Time time.Time `json:"time"`
	// Status is Amazon's HTTP status, 0 when the event was never sent.
	Status int `json:"status,omitempty"`
	// Reason says why, in Amazon's words where Amazon gave them.
	Reason string `json:"reason"`
	// Code is the reason in one word: Amazon's error code for an event it
	// refused, HTTP_<status> for a batch it refused whole, TOO_OLD for an
	// event older than Amazon's window.
	Code string `json:"code,omitempty"`
	// Event is the event's JSON as it would be sent.
	Event json.RawMessage `json:"event"`
}

// OpenDeadLetter returns the dead letter at path; the file is created on
// the first write.
func OpenDeadLetter(path string) *DeadLetter {
	return &DeadLetter{path: path, maxBytes: MaxDeadLetterBytes}
}

// Path is the dead letter's file.
func (d *DeadLetter) Path() string { return d.path }

// Add appends letters and syncs the file. It returns how many it kept: the
// first ones, as many as fit within the file's limit (the rest are refused
// with ErrDeadLetterFull).
func (d *DeadLetter) Add(letters []Letter) (int, error) {
	if len(letters) == 0 {
		return 0, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("opening the dead letter: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	kept, size := 0, info.Size()
	for i := range letters {
		l := letters[i]
		l.Reason, l.Code = cutBytes(l.Reason, maxLetterReason), cutBytes(l.Code, 64)
		before := buf.Len()
		if err := enc.Encode(&l); err != nil {
			f.Close()
			return 0, err
		}
		if size+int64(buf.Len()) > d.maxBytes {
			buf.Truncate(before)
			break
		}
		kept++
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return 0, err
	}
	if err := syncAndClose(f); err != nil {
		return 0, err
	}
	if kept < len(letters) {
		return kept, ErrDeadLetterFull
	}
	return kept, nil
}

// cutBytes cuts s to at most n bytes, on a rune boundary, marking the cut.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.RuneStart(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= utf8.RuneSelf { // a rune's first byte, cut from the rest
		s = s[:len(s)-1]
	}
	return s + "…"
}

// syncAndClose fsyncs f and closes it.
func syncAndClose(f *os.File) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// List returns the letters, oldest first (at most limit; 0 means all).
func (d *DeadLetter) List(limit int) ([]Letter, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.read(limit)
}

func (d *DeadLetter) read(limit int) ([]Letter, error) {
	f, err := os.Open(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Letter
	r := bufio.NewReader(f)
	for limit <= 0 || len(out) < limit {
		line, err := r.ReadBytes('\n')
		var l Letter
		if len(bytes.TrimSpace(line)) > 0 && json.Unmarshal(line, &l) == nil { // a line that is not a letter is skipped
			out = append(out, l)
		}
		if err == io.EOF {
			break
		} else if err != nil {
			return out, fmt.Errorf("reading the dead letter: %w", err)
		}
	}
	return out, nil
}

// replayChunk is how many letters Take hands to put at once: a replay
// holds that many in memory, whatever the file's size.
const replayChunk = 500

// Take hands every letter to put, replayChunk at a time, oldest first, and
// removes from the file those put took: when put fails, the letters from
// the chunk it refused on stay in the file, and so does a line that is not
// a letter. It returns how many put took.
func (d *DeadLetter) Take(put func([]Letter) error) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.Open(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	taken := 0
	var chunk []Letter
	var lines, unreadable [][]byte // the chunk's lines as they are in the file; lines that are not letters
	for {
		line, readErr := r.ReadBytes('\n')
		if readErr != nil && readErr != io.EOF {
			return taken, d.keep(append(unreadable, lines...), r, fmt.Errorf("reading the dead letter: %w", readErr))
		}
		if len(bytes.TrimSpace(line)) > 0 {
			var l Letter
			if json.Unmarshal(line, &l) != nil {
				unreadable = append(unreadable, line)
			} else {
				chunk, lines = append(chunk, l), append(lines, line)
			}
		}
		if len(chunk) == replayChunk || readErr == io.EOF && len(chunk) > 0 {
			if err := put(chunk); err != nil {
				return taken, d.keep(append(unreadable, lines...), r, err)
			}
			taken += len(chunk)
			chunk, lines = chunk[:0], lines[:0]
		}
		if readErr == io.EOF {
			break
		}
	}
	if len(unreadable) > 0 {
		return taken, d.keep(unreadable, nil, fmt.Errorf("%d lines of the dead letter are not letters; they are kept in %s", len(unreadable), d.path))
	}
	if err := os.Remove(d.path); err != nil {
		return taken, fmt.Errorf("emptying the dead letter (its events were queued again and may be sent twice): %w", err)
	}
	return taken, nil
}

// keep rewrites the file as lines followed by rest (the file's bytes not
// read yet, or nil), once put took the letters before them, and returns
// cause.
func (d *DeadLetter) keep(lines [][]byte, rest io.Reader, cause error) error {
	tmp := d.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return errors.Join(cause, fmt.Errorf("keeping the rest of the dead letter: %w", err))
	}
	w := bufio.NewWriter(f)
	for _, line := range lines {
		w.Write(line)
		if !bytes.HasSuffix(line, []byte("\n")) {
			w.WriteByte('\n')
		}
	}
	if rest != nil {
		if _, err := io.Copy(w, rest); err != nil {
			f.Close()
			return errors.Join(cause, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return errors.Join(cause, err)
	}
	if err := syncAndClose(f); err != nil {
		return errors.Join(cause, err)
	}
	if err := os.Rename(tmp, d.path); err != nil {
		return errors.Join(cause, fmt.Errorf("keeping the rest of the dead letter: %w", err))
	}
	return cause
}
