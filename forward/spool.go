package forward

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// Spool is a destination's durable queue: events in arrival order in an
// append-only log of segment files (segment.go), which survives crashes:
// what is written survives the process dying, what is fsynced (each write
// of Append; the forwarder's writes every SpoolSync) survives the machine
// losing power, and what a disk or a power cut damages costs its frame
// alone, counted in events (damage.go). Events stay in it until Amazon has
// answered for them; removing them appends a tombstone, and a segment file
// is deleted once nothing in it is wanted any more.
type Spool struct {
	dir  string
	lock *os.File

	// writeMu orders writes to the log: sequence numbers, the active
	// segment, the scratch frame. Holding it also keeps the index's
	// positions from moving (only writers change them).
	writeMu sync.Mutex
	nextSeq uint64
	frame   frameBuilder
	// maxSegment is segmentSize (smaller in tests).
	maxSegment int64

	// mu guards the index and the segment list, which readers use while a
	// writer waits for the disk.
	mu       sync.Mutex
	segments []*segment // oldest first; the last is the one written to
	names    nameTable

	count atomic.Int64
	bytes atomic.Int64
	// damage is what was found damaged when the spool was opened.
	damage []Damage
	// fsyncs counts the log's fsyncs of appended events (for tests).
	fsyncs atomic.Uint64

	// byName counts the spooled events per event name (for reconciling
	// what the site confirmed with what Amazon took).
	nameMu sync.Mutex
	byName map[string]int
}

// Record is one spooled event.
type Record struct {
	// Seq orders records and identifies them in the log.
	Seq uint64
	// Queued is when the event was spooled.
	Queued time.Time
	// Event is the event's JSON, as it is sent (see amazon.Encode).
	Event json.RawMessage
	// name is the event's name, read once when the record was written.
	name string
}

// Name is the event's name in Amazon (eventDescription.name).
func (r *Record) Name() string {
	if r.name != "" {
		return r.name
	}
	return recordName(r.Event)
}

// ID is the event's eventId.
func (r *Record) ID() string { return gjson.GetBytes(r.Event, "eventId").String() }

// Time is the event's eventTime as written, RFC 3339.
func (r *Record) Time() string { return gjson.GetBytes(r.Event, "eventTime").String() }

// eventName reads eventDescription.name from an event's JSON.
func eventName(event json.RawMessage) string {
	return gjson.GetBytes(event, "eventDescription.name").String()
}

// recordName is the name an event is counted under, the same everywhere:
// its eventDescription.name, or (unreadable).
func recordName(event []byte) string {
	if name := eventName(event); name != "" {
		return name
	}
	return "(unreadable)"
}

// A stored record is the time it was queued, in Unix milliseconds as 8
// big-endian bytes, then the event's JSON.
const storedHeader = 8

// storedRecord lays out a record as it is stored.
func storedRecord(queued time.Time, event []byte) []byte {
	v := make([]byte, storedHeader, storedHeader+len(event))
	binary.BigEndian.PutUint64(v, uint64(queued.UnixMilli()))
	return append(v, event...)
}

// OpenSpool opens the spool whose log is the directory dir, creating it
// (and its parents) when it does not exist. Only one process may have a
// spool open; a second one gets an error after a second.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the spool directory: %w", err)
	}
	return openLog(dir)
}

// openLog opens the log in dir, which must exist, taking its lock.
func openLog(dir string) (*Spool, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{dir: dir, lock: lock, byName: map[string]int{}, nextSeq: 1, maxSegment: segmentSize}
	if err := s.load(); err != nil {
		s.Close()
		return nil, fmt.Errorf("reading spool %s: %w", dir, err)
	}
	return s, nil
}

// Path is the spool's directory.
func (s *Spool) Path() string { return s.dir }

// Len is the number of spooled events.
func (s *Spool) Len() int { return int(s.count.Load()) }

// Bytes is the stored size of the spooled events. The log's files hold
// what lies from the segment of the oldest event still spooled on: with
// events leaving in order, as they do, about one segment (segmentSize)
// more than Bytes; removed events stay on disk until their whole segment
// can go.
func (s *Spool) Bytes() int64 { return s.bytes.Load() }

// Damage is what the spool found damaged when it was opened, and what it
// cost (see Damage).
func (s *Spool) Damage() []Damage { return s.damage }

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

// averageRecord is the average stored size of a spooled event.
func (s *Spool) averageRecord() int64 {
	if n := s.count.Load(); n > 0 {
		return max(s.bytes.Load()/n, 1)
	}
	return 512
}

// Append stores events (their JSON, see amazon.Encode) with one fsync for
// all of them.
func (s *Spool) Append(events []json.RawMessage, now time.Time) error {
	records := make([][]byte, len(events))
	for i, e := range events {
		records[i] = storedRecord(now, e)
	}
	return s.appendRecords(records, nil, now, nil, true)
}

// newRecord returns a stored record's buffer with the event's JSON in it
// (encoding/json, with the wire types' tags) and room for the header,
// which appendRecords fills: the writer stores what Enqueue encoded, then
// hands the buffer back (recycleRecord).
func newRecord(e *amazon.Event) *[]byte {
	enc := encoders.Get().(*eventEncoder)
	enc.out.Reset()
	_ = enc.json.Encode(e) // cannot fail: the wire types hold strings, numbers the mapping checked, and slices of them
	buf := recordBufs.Get().(*[]byte)
	*buf = append(append((*buf)[:0], emptyHeader[:]...), bytes.TrimSuffix(enc.out.Bytes(), []byte("\n"))...)
	encoders.Put(enc)
	return buf
}

// eventEncoder is a json.Encoder with its buffer, kept in a pool: encoding
// an event then leaves no garbage (json.Marshal's result would be about
// 1 KiB per event). Its output is json.Marshal's plus a newline.
type eventEncoder struct {
	out  bytes.Buffer
	json *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := new(eventEncoder)
	e.json = json.NewEncoder(&e.out)
	return e
}}

// recordBufs recycles the buffers of newRecord: one per event would be a
// good part of the garbage the module makes per request.
var recordBufs = sync.Pool{New: func() any {
	buf := make([]byte, 0, storedHeader+1024) // an event with three keys, consent and a user agent is about 800 bytes
	return &buf
}}

var emptyHeader [storedHeader]byte

// maxPooledRecord is the largest buffer recycleRecord keeps; a rare large
// event's buffer is left to the garbage collector.
const maxPooledRecord = 4 << 10

// recycleRecord hands a buffer from newRecord back once nothing reads it:
// once appendRecords has returned, or once the event was dropped.
func recycleRecord(buf *[]byte) {
	if cap(*buf) <= maxPooledRecord {
		recordBufs.Put(buf)
	}
}

// appendRecords stores records made by storedRecord or newRecord, setting
// their queued time to now, with one write, fsynced when durable is set
// (else by a later syncLog, or Close).
//
// committed, when set, runs once the records are written and the spool's
// counts show them: a caller that counts them as leaving its memory then
// (the forwarder's ledgers) never shows them in neither place, so a
// reconciliation read meanwhile counts them twice at worst, never misses
// them.
//
// names, when given, are the records' event names (the writer knows them);
// otherwise they are read from the records.
func (s *Spool) appendRecords(records [][]byte, names []string, now time.Time, committed func(), durable bool) error {
	for _, v := range records {
		binary.BigEndian.PutUint64(v, uint64(now.UnixMilli()))
	}
	return s.appendStored(records, names, committed, durable)
}

// appendStored is appendRecords for records whose header is set.
func (s *Spool) appendStored(records [][]byte, names []string, committed func(), durable bool) error {
	if len(records) == 0 {
		return nil
	}
	s.writeMu.Lock()
	first := s.nextSeq
	s.frame.reset()
	for i, v := range records {
		s.frame.put(first+uint64(i), v)
	}
	seg, at, err := s.writeFrame(durable)
	if err != nil {
		s.writeMu.Unlock()
		return err
	}
	s.nextSeq += uint64(len(records))
	if names == nil {
		names = make([]string, len(records))
		for i, v := range records {
			names[i] = recordName(v[storedHeader:])
		}
	}
	var added int64
	counted := make([]string, len(records)) // the names they are counted under, as Remove will take them
	s.mu.Lock()
	for i, v := range records {
		id := s.names.id(names[i])
		counted[i] = s.names.name(id)
		seg.addSlot(first+uint64(i), slot{off: at + s.frame.offsets[i], size: uint32(len(v)), name: id})
		added += int64(len(v))
	}
	s.mu.Unlock()
	s.writeMu.Unlock()

	for _, name := range counted { // before Len shows them, so a reader of Len finds them by name too
		s.addName(name, 1)
	}
	s.count.Add(int64(len(records)))
	s.bytes.Add(added)
	if committed != nil {
		committed()
	}
	return nil
}

// Oldest returns up to n records, oldest first, read into an array of
// their own (a batch's, some 250 KiB for 500 events: reusing one saved 0.2
// µs per event, under the 1 µs a trick must save).
func (s *Spool) Oldest(n int) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var runs []slotRun
	count := 0
	for _, seg := range s.segments {
		for i := seg.head; i < len(seg.slots) && count < n; i++ {
			if !seg.slots[i].removed {
				runs = extendRuns(runs, seg, i)
				count++
			}
		}
	}
	out := make([]Record, 0, count)
	size := 0
	for _, run := range runs {
		size += int(run.end - run.start)
	}
	arena := make([]byte, 0, size)
	for _, run := range runs {
		var err error
		if arena, out, err = s.readRun(run, arena, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OldestQueued is when the oldest spooled event was spooled; zero when
// none. It reads that record's header only.
func (s *Spool) OldestQueued() (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segments {
		for i := seg.head; i < len(seg.slots); i++ {
			if sl := &seg.slots[i]; !sl.removed {
				var header [storedHeader]byte
				if _, err := seg.file.ReadAt(header[:], int64(sl.off)); err != nil {
					return time.Time{}, fmt.Errorf("reading %s: %w", seg.file.Name(), err)
				}
				return time.UnixMilli(int64(binary.BigEndian.Uint64(header[:]))), nil
			}
		}
	}
	return time.Time{}, nil
}

// readRun reads a run of entries with one read into the end of arena,
// which has room for it (Oldest sized it), and appends their records to
// out.
func (s *Spool) readRun(run slotRun, arena []byte, out []Record) ([]byte, []Record, error) {
	size := int(run.end - run.start)
	start := len(arena)
	arena = arena[:start+size]
	if _, err := run.seg.file.ReadAt(arena[start:], int64(run.start)); err != nil {
		return arena[:start], out, fmt.Errorf("reading %s: %w", run.seg.file.Name(), err)
	}
	for i := run.first; i <= run.last; i++ {
		sl := &run.seg.slots[i]
		if sl.removed {
			continue
		}
		at := start + int(sl.off-run.start)
		v := arena[at : at+int(sl.size) : at+int(sl.size)]
		out = append(out, Record{
			Seq:    run.seg.firstSeq + uint64(i),
			Queued: time.UnixMilli(int64(binary.BigEndian.Uint64(v))),
			Event:  v[storedHeader:],
			name:   s.names.name(sl.name),
		})
	}
	return arena, out, nil
}

// Remove deletes records once Amazon has answered for them: one tombstone
// write, which is not fsynced on its own but with the next fsync of the
// log (or at Close). A process that dies loses nothing; a machine that loses
// power in between may send those events again, with the same IDs, which
// Amazon deduplicates. That saves an fsync per batch.
func (s *Spool) Remove(records []Record) error {
	if len(records) == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	live := s.findLocked(records)
	if len(live) == 0 {
		return nil
	}
	s.frame.reset()
	for _, l := range live {
		s.frame.del(l.seq())
	}
	// Amazon has answered for them: they leave the spool even when the
	// tombstone cannot be written (a full disk), so that their segments
	// can go; they are then sent again after a restart, with the same IDs.
	_, _, err := s.writeFrame(false)
	var size int64
	s.mu.Lock()
	for _, l := range live {
		size += int64(l.slot().size)
		l.seg.remove(l.i)
	}
	dead := s.dropDeadSegments()
	s.mu.Unlock()
	s.count.Add(-int64(len(live)))
	s.bytes.Add(-size)
	for _, l := range live {
		s.addName(records[l.rec].Name(), -1)
	}
	closeAndDelete(dead)
	return err
}

// moveToBack gives records new, newest sequence numbers, in one write: they
// are then read after every event spooled before.
func (s *Spool) moveToBack(records []Record, _ time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	live := s.findLocked(records)
	if len(live) == 0 {
		return nil
	}
	first := s.nextSeq
	s.frame.reset()
	moved := make([][]byte, len(live))
	for k, l := range live {
		r := records[l.rec]
		moved[k] = storedRecord(r.Queued, r.Event)
		s.frame.del(l.seq())
		s.frame.put(first+uint64(k), moved[k])
	}
	seg, at, err := s.writeFrame(true)
	if err != nil {
		return err
	}
	s.nextSeq += uint64(len(live))
	s.mu.Lock()
	for k, l := range live {
		name := l.slot().name
		l.seg.remove(l.i)
		seg.addSlot(first+uint64(k), slot{off: at + s.frame.offsets[k], size: uint32(len(moved[k])), name: name})
	}
	dead := s.dropDeadSegments()
	s.mu.Unlock()
	closeAndDelete(dead)
	return nil
}

// findLocked is find under mu.
func (s *Spool) findLocked(records []Record) []liveRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.find(records)
}

// syncLog fsyncs what was written to the log without an fsync of its own
// (older segments were fsynced when the log moved on from them).
func (s *Spool) syncLog() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n := len(s.segments)
	if n == 0 {
		return errSpoolClosed
	}
	return s.syncIf(true, s.segments[n-1])
}

// errSpoolClosed is what a write to a closed spool returns.
var errSpoolClosed = errors.New("the spool is closed")

// Close closes the spool's files and lets another process open it.
func (s *Spool) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	if n := len(s.segments); n > 0 {
		first = s.segments[n-1].file.Sync() // what was written since the last fsync
	}
	for _, seg := range s.segments {
		if err := seg.file.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.segments = nil
	if s.lock != nil {
		if err := s.lock.Close(); err != nil && first == nil {
			first = err
		}
		s.lock = nil
	}
	return first
}
