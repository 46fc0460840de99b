package forward

import "sort"

// entry is where one spooled record is in the log: 32 bytes in memory per
// spooled event (a million events: 32 MiB), the event itself stays on disk.
type entry struct {
	seq  uint64
	seg  *segment
	off  uint32 // the record's offset in its segment file
	size uint32 // the record's stored size (header and event)
	name uint32 // the event's name, in the spool's nameTable
	// removed is set once the record is removed (or moved to the back);
	// the entry goes once every entry before it has gone.
	removed bool
}

// spoolIndex lists the log's records in sequence order, which is also the
// order of their segments and offsets: entries[head:] are those not yet
// known to be removed, in sequence order.
type spoolIndex struct {
	entries []entry
	head    int
}

// add appends an entry; its seq is above every entry's so far.
func (x *spoolIndex) add(e entry) { x.entries = append(x.entries, e) }

// remove marks the entry at pos removed; trim drops it later.
func (x *spoolIndex) remove(pos int) {
	e := &x.entries[pos]
	if !e.removed {
		e.removed = true
		e.seg.live--
	}
}

// at returns the position of the entry with seq, or -1.
func (x *spoolIndex) at(seq uint64) int {
	live := x.entries[x.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].seq >= seq })
	if i < len(live) && live[i].seq == seq {
		return x.head + i
	}
	return -1
}

// liveRecord pairs a record asked for (its index in the caller's list) with
// its entry's position.
type liveRecord struct{ rec, pos int }

// find returns the records of the list that are still spooled.
func (x *spoolIndex) find(records []Record) []liveRecord {
	out := make([]liveRecord, 0, len(records))
	for i := range records {
		if pos := x.at(records[i].Seq); pos >= 0 && !x.entries[pos].removed {
			out = append(out, liveRecord{rec: i, pos: pos})
		}
	}
	return out
}

// trim drops the removed entries at the front and, once they are most of
// the slice, moves the rest down so the memory is reused.
func (x *spoolIndex) trim() {
	for x.head < len(x.entries) && x.entries[x.head].removed {
		x.entries[x.head] = entry{} // let the segment go
		x.head++
	}
	if x.head == len(x.entries) {
		x.entries, x.head = x.entries[:0], 0
		return
	}
	if x.head > 4096 && x.head > len(x.entries)/2 {
		n := copy(x.entries, x.entries[x.head:])
		clear(x.entries[n:])
		x.entries, x.head = x.entries[:n], 0
	}
}

// indexRun is a run of entries of one segment that lie close together in
// its file, read with one read: first and last are positions in the
// index, start and end the bytes to read.
type indexRun struct {
	seg         *segment
	first, last int
	start, end  uint32
}

// maxRunGap is how many bytes between two records a run reads past rather
// than starting a new read: frame headers and tombstones.
const maxRunGap = 4 << 10

// extendRuns adds the entry at pos to the last run when it lies just after
// it in the same segment, else starts a new run.
func extendRuns(runs []indexRun, pos int, e *entry) []indexRun {
	if n := len(runs); n > 0 {
		last := &runs[n-1]
		if last.seg == e.seg && e.off >= last.end && e.off-last.end <= maxRunGap {
			last.last, last.end = pos, e.off+e.size
			return runs
		}
	}
	return append(runs, indexRun{seg: e.seg, first: pos, last: pos, start: e.off, end: e.off + e.size})
}

// nameTable interns event names: an entry holds a number, not a string.
type nameTable struct {
	ids   map[string]uint32
	names []string
}

// id returns name's number, adding it when new. Callers hold the spool's
// writeMu; readers of names hold mu, which id takes to add.
func (t *nameTable) id(name string) uint32 {
	if id, ok := t.ids[name]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = map[string]uint32{}
	}
	id := uint32(len(t.names))
	t.ids[name] = id
	t.names = append(t.names, name)
	return id
}

// name returns the name numbered id.
func (t *nameTable) name(id uint32) string { return t.names[id] }
