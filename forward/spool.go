package forward

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tidwall/gjson"
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
	// churn counts the bytes written and removed since the mapped pages
	// were last released (see releaseMapped).
	churn atomic.Int64
	// byName counts the spooled events per event name (for reconciling
	// what the site confirmed with what Amazon took).
	nameMu sync.Mutex
	byName map[string]int
}

// countName adds n events called name (from a stored value, header and
// event JSON) to the per-name counts.
func (s *Spool) countName(stored []byte, n int) {
	var event []byte
	if len(stored) > storedHeader && stored[0] != '{' {
		event = stored[storedHeader:]
	} else if r, _ := loadRecord(0, stored, nil); r.Event != nil {
		event = r.Event
	}
	s.addName(recordName(event), n)
}

// addName adds n (or takes -n) events called name. A count may go below
// zero for a moment (the sender may remove a record before its writer has
// counted it), so only an exact 0 is forgotten.
func (s *Spool) addName(name string, n int) {
	s.nameMu.Lock()
	if s.byName[name] += n; s.byName[name] == 0 {
		delete(s.byName, name)
	}
	s.nameMu.Unlock()
}

// recordName is the name an event is counted under, the same everywhere:
// its eventDescription.name, or (unreadable).
func recordName(event []byte) string {
	if name := eventName(event); name != "" {
		return name
	}
	return "(unreadable)"
}

// CountsByName returns how many events of each name the spool holds.
func (s *Spool) CountsByName() map[string]int {
	s.nameMu.Lock()
	defer s.nameMu.Unlock()
	out := make(map[string]int, len(s.byName))
	for k, v := range s.byName {
		out[k] = v
	}
	return out
}

// releaseEvery is how many bytes of events pass through the spool between
// two releases of its mapped pages.
const releaseEvery = 32 << 20

// noteChurn counts n bytes written or removed and releases the mapped pages
// every releaseEvery bytes.
func (s *Spool) noteChurn(n int64) {
	if s.churn.Add(n) >= releaseEvery {
		s.churn.Store(0)
		s.releaseMapped()
	}
}

var bucketEvents = []byte("events")

// Record is one spooled event.
type Record struct {
	// Seq orders records and keys them in the file.
	Seq uint64
	// Queued is when the event was spooled.
	Queued time.Time
	// Event is the event's JSON, as it is sent (see amazon.Encode).
	Event json.RawMessage
	// size is the record's stored size.
	size int
	// name is the event's name, read once when the record is loaded.
	name string
}

// Name is the event's name in Amazon (eventDescription.name).
func (r *Record) Name() string {
	if r.name != "" {
		return r.name
	}
	return recordName(r.Event)
}

// eventName reads eventDescription.name from an event's JSON.
func eventName(event json.RawMessage) string {
	return gjson.GetBytes(event, "eventDescription.name").String()
}

// ID is the event's eventId.
func (r *Record) ID() string { return gjson.GetBytes(r.Event, "eventId").String() }

// Time is the event's eventTime as written, RFC 3339.
func (r *Record) Time() string { return gjson.GetBytes(r.Event, "eventTime").String() }

// A stored record is the time it was queued, in Unix milliseconds as 8
// big-endian bytes, then the event's JSON. Spools written before that
// format held {"q": <ms>, "e": <event>}, which begins with '{' where the
// time's first byte is 0; they are still read.
const storedHeader = 8

type legacyRecord struct {
	Queued int64           `json:"q"`
	Event  json.RawMessage `json:"e"`
}

// recordsOf lays out the records of events in one buffer (bbolt keeps a
// reference to each value until the transaction ends), each with room for
// the header, which appendRecords fills, and returns each record's slice.
func recordsOf(events []json.RawMessage) [][]byte {
	size := 0
	for _, e := range events {
		size += storedHeader + len(e)
	}
	buf := make([]byte, 0, size)
	out := make([][]byte, len(events))
	for i, e := range events {
		start := len(buf)
		buf = append(buf, make([]byte, storedHeader)...)
		buf = append(buf, e...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// loadRecord decodes a stored value, which bbolt owns: the event is copied
// to the end of arena (one buffer for a whole batch), which is returned. An
// unreadable value gives a record with no event, which the sender drops.
func loadRecord(seq uint64, v, arena []byte) (Record, []byte) {
	r := Record{Seq: seq, size: len(v)}
	if len(v) > 0 && v[0] == '{' {
		var old legacyRecord
		if json.Unmarshal(v, &old) == nil {
			r.Queued, r.Event = time.UnixMilli(old.Queued), old.Event
		}
		return r, arena
	}
	if len(v) >= storedHeader {
		r.Queued = time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
		start := len(arena)
		arena = append(arena, v[storedHeader:]...)
		r.Event = arena[start:len(arena):len(arena)]
	}
	return r, arena
}

// OpenSpool opens (or creates) the spool file at path. Only one process may
// have a spool open; a second one gets an error after a second.
func OpenSpool(path string) (*Spool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the spool directory: %w", err)
	}
	// Events are appended in key order and removed from the front, so the
	// free list is kept in memory (rebuilt at open) rather than rewritten
	// with every transaction.
	options := &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType, InitialMmapSize: initialMmap}
	db, err := bolt.Open(path, 0o600, options)
	if errors.Is(err, syscall.ENOMEM) {
		// The address space is limited (ulimit -v): map only what the
		// file needs, as bbolt does by default, and remap as it grows.
		options.InitialMmapSize = 0
		db, err = bolt.Open(path, 0o600, options)
	}
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("spool %s is in use by another process; give each Caddy its own spool directory", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening spool %s: %w", path, err)
	}
	// With the large initial mapping, bbolt would grow the file in steps of
	// its default 16 MiB (sparse, but that is what ls and quotas see).
	db.AllocSize = 1 << 20
	s := &Spool{db: db, path: path, byName: map[string]int{}}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketEvents)
		if err != nil {
			return err
		}
		return b.ForEach(func(_, v []byte) error {
			s.count.Add(1)
			s.bytes.Add(int64(len(v)))
			s.countName(v, 1)
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

// averageRecord is the average stored size of a spooled event.
func (s *Spool) averageRecord() int64 {
	if n := s.count.Load(); n > 0 {
		return max(s.bytes.Load()/n, 1)
	}
	return 512
}

// Append stores events (their JSON, see amazon.Encode) in one transaction:
// one fsync for all of them.
func (s *Spool) Append(events []json.RawMessage, now time.Time) error {
	return s.appendRecords(recordsOf(events), nil, now, nil)
}

// newRecord returns a stored record's buffer with the event's JSON in it and
// room for the header, which appendRecords fills: the writer stores what
// Enqueue encoded without copying it, then hands the buffer back
// (recycleRecord).
func newRecord(e *amazon.Event) *[]byte {
	buf := recordBufs.Get().(*[]byte)
	*buf = e.AppendJSON(append((*buf)[:0], emptyHeader[:]...))
	return buf
}

// recordBufs recycles the buffers of newRecord: one per event would be a
// good part of the garbage the module makes per request.
var recordBufs = sync.Pool{New: func() any {
	buf := make([]byte, 0, storedHeader+512)
	return &buf
}}

var emptyHeader [storedHeader]byte

// maxPooledRecord is the largest buffer recycleRecord keeps; a rare large
// event's buffer is left to the garbage collector.
const maxPooledRecord = 4 << 10

// recycleRecord hands a buffer from newRecord back once nothing reads it:
// once its transaction has ended (bbolt holds values until then) or once
// the event was dropped.
func recycleRecord(buf *[]byte) {
	if cap(*buf) <= maxPooledRecord {
		recordBufs.Put(buf)
	}
}

// appendRecords stores records made by recordsOf or newRecord, setting
// their queued time, in one transaction. bbolt keeps each value until the
// transaction ends: they must not change before appendRecords returns.
//
// committed, when set, runs once the transaction is committed and before
// the spool's counts show the records, so that a caller's own count of
// what it spooled never lags behind the spool's.
//
// names, when given, are the records' event names (the writer knows them);
// otherwise they are read from the records.
func (s *Spool) appendRecords(records [][]byte, names []string, now time.Time, committed func()) error {
	var added int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		b.FillPercent = 1 // keys only ever grow: fill each page
		added = 0
		keys := make([]byte, 8*len(records)) // one allocation for all the keys (bbolt copies each)
		for i, v := range records {
			binary.BigEndian.PutUint64(v, uint64(now.UnixMilli()))
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			k := keys[8*i : 8*i+8 : 8*i+8]
			binary.BigEndian.PutUint64(k, seq)
			if err := b.Put(k, v); err != nil {
				return err
			}
			added += int64(len(v))
		}
		return nil
	})
	if err == nil {
		if committed != nil {
			committed()
		}
		for i, v := range records { // before Len shows them, so a reader of Len finds them by name too
			if names != nil {
				s.addName(names[i], 1)
			} else {
				s.countName(v, 1)
			}
		}
		s.count.Add(int64(len(records)))
		s.bytes.Add(added)
		s.noteChurn(added)
	}
	return err
}

// Oldest returns up to n records, oldest first. A record that cannot be
// decoded is returned with no event, so the caller can drop it.
func (s *Spool) Oldest(n int) ([]Record, error) {
	count := min(n, s.Len())
	out := make([]Record, 0, count)
	// One buffer for the batch's events, sized from the spool's average
	// record; if it fills up, append moves on to a new one and the records
	// already made keep theirs.
	arena := make([]byte, 0, int64(count)*s.averageRecord())
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			var r Record
			r, arena = loadRecord(binary.BigEndian.Uint64(k), v, arena)
			r.name = recordName(r.Event) // once: the sender's tallies, logs and Remove all need it
			out = append(out, r)
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
	var gone []int // indexes of the records that were there
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		removed, size, gone = 0, 0, gone[:0]
		for i, r := range records {
			k := seqKey(r.Seq)
			if v := b.Get(k); v != nil {
				removed++
				size += int64(len(v))
				gone = append(gone, i)
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
		s.noteChurn(size)
		for _, i := range gone {
			s.addName(records[i].Name(), -1)
		}
	}
	return err
}

// moveToBack gives records new, newest keys, in one transaction: they are
// then read after every event spooled before.
func (s *Spool) moveToBack(records []Record, _ time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		for _, r := range records {
			k := seqKey(r.Seq)
			v := b.Get(k)
			if v == nil {
				continue
			}
			v = append([]byte(nil), v...) // bbolt's memory is not ours once the key is deleted
			if err := b.Delete(k); err != nil {
				return err
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			if err := b.Put(seqKey(seq), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the spool file.
func (s *Spool) Close() error { return s.db.Close() }

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}
