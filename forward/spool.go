package forward

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Spool is a destination's durable queue: events in arrival order in a
// bbolt file, which survives crashes (every write transaction is fsynced
// before it returns). Events stay in it until Amazon has answered for them.
type Spool struct {
	db    *bolt.DB
	path  string
	count atomic.Int64
	bytes atomic.Int64
}

var bucketEvents = []byte("events")

// Record is one spooled event.
type Record struct {
	// Seq orders records and keys them in the file.
	Seq uint64
	// Queued is when the event was spooled.
	Queued time.Time
	// Event is the event as it will be sent.
	Event amazon.Event
	// size is the record's encoded size.
	size int
}

type storedRecord struct {
	Queued int64        `json:"q"`
	Event  amazon.Event `json:"e"`
}

// OpenSpool opens (or creates) the spool file at path. Only one process may
// have a spool open; a second one gets an error after a second.
func OpenSpool(path string) (*Spool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the spool directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("spool %s is in use by another process; give each Caddy its own spool directory", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening spool %s: %w", path, err)
	}
	s := &Spool{db: db, path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketEvents)
		if err != nil {
			return err
		}
		return b.ForEach(func(_, v []byte) error {
			s.count.Add(1)
			s.bytes.Add(int64(len(v)))
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reading spool %s: %w", path, err)
	}
	return s, nil
}

// Path is the spool file's path.
func (s *Spool) Path() string { return s.path }

// Len is the number of spooled events.
func (s *Spool) Len() int { return int(s.count.Load()) }

// Bytes is the encoded size of the spooled events.
func (s *Spool) Bytes() int64 { return s.bytes.Load() }

// Append stores events in one transaction: one fsync for all of them.
func (s *Spool) Append(events []amazon.Event, now time.Time) error {
	var added int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		added = 0
		for i := range events {
			v, err := json.Marshal(storedRecord{Queued: now.UnixMilli(), Event: events[i]})
			if err != nil {
				return err
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			if err := b.Put(seqKey(seq), v); err != nil {
				return err
			}
			added += int64(len(v))
		}
		return nil
	})
	if err == nil {
		s.count.Add(int64(len(events)))
		s.bytes.Add(added)
	}
	return err
}

// Oldest returns up to n records, oldest first. A record that cannot be
// decoded is returned with an empty event, so the caller can drop it.
func (s *Spool) Oldest(n int) ([]Record, error) {
	out := make([]Record, 0, min(n, s.Len()))
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			var sr storedRecord
			_ = json.Unmarshal(v, &sr)
			out = append(out, Record{Seq: binary.BigEndian.Uint64(k), Queued: time.UnixMilli(sr.Queued), Event: sr.Event, size: len(v)})
		}
		return nil
	})
	return out, err
}

// Remove deletes records once Amazon has answered for them.
func (s *Spool) Remove(records []Record) error {
	if len(records) == 0 {
		return nil
	}
	var removed, size int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		removed, size = 0, 0
		for _, r := range records {
			k := seqKey(r.Seq)
			if v := b.Get(k); v != nil {
				removed++
				size += int64(len(v))
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		s.count.Add(-removed)
		s.bytes.Add(-size)
	}
	return err
}

// Close closes the spool file.
func (s *Spool) Close() error { return s.db.Close() }

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}
