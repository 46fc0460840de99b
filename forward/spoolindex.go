package forward

import "sort"

// slot is where one spooled record is in its segment: 12 bytes in memory
// per spooled event (a million events: 12 MiB); the event stays on disk.
// A segment's records have consecutive sequence numbers, so the slot does
// not hold its own.
type slot struct {
	off  uint32 // the record's offset in the segment file
	size uint32 // the record's stored size (header and event)
	name uint16 // the event's name, in the spool's nameTable
	// removed is set once the record is removed (or moved to the back).
	removed bool
}

// addSlot appends the slot of record seq, which follows the segment's last
// (or is its first).
func (seg *segment) addSlot(seq uint64, sl slot) {
	if len(seg.slots) == 0 {
		seg.firstSeq = seq
	}
	seg.slots = append(seg.slots, sl)
	seg.live++
}

// addRemoved appends n slots of records that are not in the log (lost to
// damage), so that the numbers of the records after them still index their
// slots.
func (seg *segment) addRemoved(n uint64) {
	for ; n > 0; n-- {
		seg.slots = append(seg.slots, slot{removed: true})
	}
}

// nextSeq is the sequence number the segment's next record must have; 0
// when it has none yet (then any above the log's last will do).
func (seg *segment) nextSeq() uint64 {
	if len(seg.slots) == 0 {
		return 0
	}
	return seg.firstSeq + uint64(len(seg.slots))
}

// remove marks slot i removed.
func (seg *segment) remove(i int) {
	if sl := &seg.slots[i]; !sl.removed {
		sl.removed = true
		seg.live--
	}
}

// trim moves the segment's head past its removed slots.
func (seg *segment) trim() {
	for seg.head < len(seg.slots) && seg.slots[seg.head].removed {
		seg.head++
	}
}

// locate returns the segment and slot of record seq, or nil. The caller
// holds mu.
func (s *Spool) locate(seq uint64) (*segment, int) {
	i := sort.Search(len(s.segments), func(i int) bool { return s.segments[i].firstSeq > seq }) - 1
	if i < 0 {
		return nil, 0
	}
	seg := s.segments[i]
	if seq < seg.firstSeq || seq-seg.firstSeq >= uint64(len(seg.slots)) {
		return nil, 0
	}
	return seg, int(seq - seg.firstSeq)
}

// liveRecord is a record asked for (its index in the caller's list) that
// is still spooled, and its slot.
type liveRecord struct {
	rec int
	seg *segment
	i   int
}

func (l liveRecord) slot() *slot { return &l.seg.slots[l.i] }

func (l liveRecord) seq() uint64 { return l.seg.firstSeq + uint64(l.i) }

// find returns the records of the list that are still spooled. The caller
// holds mu.
func (s *Spool) find(records []Record) []liveRecord {
	out := make([]liveRecord, 0, len(records))
	for i := range records {
		if seg, j := s.locate(records[i].Seq); seg != nil && !seg.slots[j].removed {
			out = append(out, liveRecord{rec: i, seg: seg, i: j})
		}
	}
	return out
}

// slotRun is a run of slots of one segment that lie close together in its
// file, read with one read: first and last index the segment's slots,
// start and end are the bytes to read.
type slotRun struct {
	seg         *segment
	first, last int
	start, end  uint32
}

// maxRunGap is how many bytes between two records a run reads past rather
// than starting a new read: frame headers and tombstones.
const maxRunGap = 4 << 10

// extendRuns adds slot i of seg to the last run when it lies just after it
// in the same segment, else starts a new run.
func extendRuns(runs []slotRun, seg *segment, i int) []slotRun {
	sl := &seg.slots[i]
	if n := len(runs); n > 0 {
		last := &runs[n-1]
		if last.seg == seg && sl.off >= last.end && sl.off-last.end <= maxRunGap {
			last.last, last.end = i, sl.off+sl.size
			return runs
		}
	}
	return append(runs, slotRun{seg: seg, first: i, last: i, start: sl.off, end: sl.off + sl.size})
}

// nameTable interns event names: a slot holds a number, not a string. The
// caller holds mu.
type nameTable struct {
	ids   map[string]uint16
	names []string
}

// otherNames is what events are counted under once a spool has seen more
// distinct event names than a slot can number (a site has a handful).
const otherNames = "(other names)"

// id returns name's number, adding it when new.
func (t *nameTable) id(name string) uint16 {
	if id, ok := t.ids[name]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = map[string]uint16{}
	}
	if len(t.names) == 1<<16-1 {
		name = otherNames
		if id, ok := t.ids[name]; ok {
			return id
		}
	}
	id := uint16(len(t.names))
	t.ids[name] = id
	t.names = append(t.names, name)
	return id
}

// name returns the name numbered id.
func (t *nameTable) name(id uint16) string { return t.names[id] }
