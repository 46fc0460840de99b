package forward

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
)

// DeadLetter keeps the events Amazon refused or that can never be sent, one
// JSON object per line, with the reason. Events hold hashed match keys only,
// so the file holds no raw PII and no secret. Its events can be sent again
// (Replay).
type DeadLetter struct {
	mu   sync.Mutex
	path string
}

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
	return &DeadLetter{path: path}
}

// Path is the dead letter's file.
func (d *DeadLetter) Path() string { return d.path }

// Add appends letters and syncs the file.
func (d *DeadLetter) Add(letters []Letter) error {
	if len(letters) == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("opening the dead letter: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range letters {
		if err := enc.Encode(&letters[i]); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return syncAndClose(f)
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
	dec := json.NewDecoder(f)
	for limit <= 0 || len(out) < limit {
		var l Letter
		if err := dec.Decode(&l); err == io.EOF {
			break
		} else if err != nil {
			return out, fmt.Errorf("reading the dead letter: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

// Take returns every letter and empties the file, via put: the letters are
// removed only when put succeeds.
func (d *DeadLetter) Take(put func([]Letter) error) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	letters, err := d.read(0)
	if err != nil || len(letters) == 0 {
		return 0, err
	}
	if err := put(letters); err != nil {
		return 0, err
	}
	if err := os.Remove(d.path); err != nil {
		return len(letters), fmt.Errorf("emptying the dead letter (its events were queued again and may be sent twice): %w", err)
	}
	return len(letters), nil
}
