package forward

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The log is a directory of segment files, named by their number in hex
// and written one after the other. A segment is a run of frames; a frame
// is one write (fsynced with it, or by a later fsync): its payload's
// length and CRC-32C, 4 bytes each, then the payload, a run of entries:
//
//	'P' seq(8) length(4) record   a record stored (see storedHeader)
//	'D' seq(8)                    the record seq removed
//	'S' padding                   written over a damaged stretch (damage.go)
//
// A frame that is cut short or fails its checksum costs that frame alone
// (damage.go): the frames after it are kept, and the events lost are
// counted.
const (
	frameHeader = 8
	putHeader   = 1 + 8 + 4
	delSize     = 1 + 8
	entryPut    = 'P'
	entryDel    = 'D'
	// segmentSize is the size past which the next write starts a new
	// segment: removed records stay on disk until their whole segment can
	// be deleted, so the files take at most about this much more than the
	// events they hold.
	segmentSize = 16 << 20
	segmentExt  = ".log"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segment is one file of the log.
type segment struct {
	file *os.File
	num  uint64
	size int64 // bytes of whole frames (the writer's, under writeMu)
	// Under mu: the records put in this segment, whose sequence numbers
	// run on from firstSeq (for a segment with none yet, the log's next
	// one); head is the first slot not removed, live the slots not removed.
	firstSeq uint64
	slots    []slot
	head     int
	live     int
}

// frameBuilder lays out one frame in a buffer reused from write to write.
type frameBuilder struct {
	buf []byte
	// offsets are where each put's record starts, from the frame's start.
	offsets []uint32
}

func (f *frameBuilder) reset() {
	f.buf = append(f.buf[:0], make([]byte, frameHeader)...)
	f.offsets = f.offsets[:0]
}

func (f *frameBuilder) put(seq uint64, record []byte) {
	f.buf = append(f.buf, entryPut)
	f.buf = binary.BigEndian.AppendUint64(f.buf, seq)
	f.buf = binary.BigEndian.AppendUint32(f.buf, uint32(len(record)))
	f.offsets = append(f.offsets, uint32(len(f.buf)))
	f.buf = append(f.buf, record...)
}

func (f *frameBuilder) del(seq uint64) {
	f.buf = append(f.buf, entryDel)
	f.buf = binary.BigEndian.AppendUint64(f.buf, seq)
}

// seal fills in the frame's header and returns the frame.
func (f *frameBuilder) seal() []byte {
	payload := f.buf[frameHeader:]
	binary.BigEndian.PutUint32(f.buf, uint32(len(payload)))
	binary.BigEndian.PutUint32(f.buf[4:], crc32.Checksum(payload, castagnoli))
	return f.buf
}

// writeFrame writes the built frame at the end of the log, starting a new
// segment when the current one is full, and fsyncs it when durable is set
// (else it becomes durable with the next fsync, or when the kernel writes
// it back: a process that dies loses nothing it wrote, only a machine that
// does). It returns the segment and the frame's offset in it. On error the
// segment is cut back to where it was. The caller holds writeMu.
func (s *Spool) writeFrame(durable bool) (*segment, uint32, error) {
	if len(s.segments) == 0 {
		return nil, 0, errSpoolClosed
	}
	frame := s.frame.seal()
	seg := s.segments[len(s.segments)-1]
	if seg.size > 0 && seg.size+int64(len(frame)) > s.maxSegment {
		if err := seg.file.Sync(); err != nil { // the removals written to it since its last fsync
			return nil, 0, fmt.Errorf("writing the spool: %w", err)
		}
		var err error
		if seg, err = s.newSegment(seg.num+1, s.nextSeq); err != nil {
			return nil, 0, err
		}
	}
	at := seg.size
	if _, err := seg.file.WriteAt(frame, at); err != nil {
		_ = seg.file.Truncate(at)
		return nil, 0, fmt.Errorf("writing the spool: %w", err)
	}
	if err := s.syncIf(durable, seg); err != nil {
		_ = seg.file.Truncate(at)
		return nil, 0, fmt.Errorf("writing the spool: %w", err)
	}
	seg.size += int64(len(frame))
	return seg, uint32(at), nil
}

// newSegment creates segment num, whose first record will be firstSeq,
// makes its name durable and writes to it from now on.
func (s *Spool) newSegment(num, firstSeq uint64) (*segment, error) {
	name := filepath.Join(s.dir, fmt.Sprintf("%016x%s", num, segmentExt))
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating a spool segment: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(name)
		return nil, err
	}
	seg := &segment{file: f, num: num, firstSeq: firstSeq}
	s.mu.Lock()
	s.segments = append(s.segments, seg)
	s.mu.Unlock()
	return seg, nil
}

// syncDir makes the names in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupportedSync(err) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// dropDeadSegments takes the segments before the first record still
// spooled off the list (never the one written to); the caller closes and
// deletes them. The caller holds writeMu and mu.
func (s *Spool) dropDeadSegments() []*segment {
	for _, seg := range s.segments {
		seg.trim()
	}
	var dead []*segment
	for len(s.segments) > 1 && s.segments[0].live == 0 {
		dead = append(dead, s.segments[0])
		s.segments[0] = nil
		s.segments = s.segments[1:]
	}
	return dead
}

// closeAndDelete closes and deletes segments nothing reads any more. The
// directory is not synced: a power loss may undo a deletion, and if a
// later segment's deletion stood, records whose tombstones were in it come
// back and are sent again, with the same IDs (Amazon deduplicates). A
// process that dies undoes nothing.
func closeAndDelete(segments []*segment) {
	for _, seg := range segments {
		seg.file.Close()
		os.Remove(seg.file.Name())
		os.Remove(seg.file.Name() + damagedExt) // the bytes a repair kept aside, if any
	}
}

// load reads the log: the index, the counts, and where writing goes on.
// Damaged frames are skipped, repaired and counted (damage.go).
func (s *Spool) load() error {
	nums, err := segmentNumbers(s.dir)
	if err != nil {
		return err
	}
	var st replayState
	for i, num := range nums {
		if err := s.loadSegment(num, &st, i == len(nums)-1); err != nil {
			return err
		}
	}
	s.damage = st.finish()
	s.nextSeq = st.maxSeq + 1
	if len(s.segments) == 0 {
		if _, err := s.newSegment(1, s.nextSeq); err != nil {
			return err
		}
	}
	closeAndDelete(s.dropDeadSegments())
	for _, seg := range s.segments {
		for _, sl := range seg.slots[seg.head:] {
			if !sl.removed {
				s.count.Add(1)
				s.bytes.Add(int64(sl.size))
				s.byName[s.names.name(sl.name)]++
			}
		}
	}
	return nil
}

// segmentNumbers lists the segments in dir, oldest first.
func segmentNumbers(dir string) ([]uint64, error) {
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nums []uint64
	for _, f := range files {
		hex, ok := strings.CutSuffix(f.Name(), segmentExt)
		if !ok {
			continue
		}
		if num, err := strconv.ParseUint(hex, 16, 64); err == nil {
			nums = append(nums, num)
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	return nums, nil
}

// loadSegment opens segment num, adds it to the list (a removal may be of
// a record in the same segment), replays its frames and repairs what is
// damaged in it. last is set for the newest segment, whose damaged end is
// a torn write.
func (s *Spool) loadSegment(num uint64, st *replayState, last bool) error {
	name := filepath.Join(s.dir, fmt.Sprintf("%016x%s", num, segmentExt))
	f, err := os.OpenFile(name, os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	seg := &segment{file: f, num: num, firstSeq: st.maxSeq + 1}
	s.segments = append(s.segments, seg) // closed by Close from here on
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	stretches, good := s.replay(seg, data, st, last)
	if len(stretches) > 0 || good < len(data) {
		if err := repair(seg, data, stretches, good); err != nil {
			return err
		}
	}
	seg.size = int64(good)
	return nil
}

// replay applies a segment's intact frames to the index. It returns the
// damaged stretches that intact frames follow, and where the intact frames
// end: what lies after is damaged, with nothing intact after it.
func (s *Spool) replay(seg *segment, data []byte, st *replayState, last bool) (stretches [][2]int, good int) {
	off := 0
	for off < len(data) {
		if end, ok := st.frameAt(seg, data, off); ok {
			s.applyFrame(seg, data, off+frameHeader, end, st)
			off = end
			continue
		}
		next := st.nextFrame(seg, data, off)
		if next < 0 {
			reason := LostDamagedFrame
			if last {
				reason = LostTornTail
			}
			st.damaged(seg, data, off, len(data), reason)
			return stretches, off
		}
		st.damaged(seg, data, off, next, LostDamagedFrame)
		stretches = append(stretches, [2]int{off, next})
		off = next
	}
	return stretches, off
}

// wellFormed reports whether a payload is a run of whole entries whose
// records come after every record before them, next to each other in
// their segment: the first must be next (or, when next is 0, above maxSeq).
// A skip entry takes the rest of the payload.
func wellFormed(p []byte, next, maxSeq uint64) bool {
	for len(p) > 0 {
		switch {
		case p[0] == entrySkip:
			return true
		case p[0] == entryDel && len(p) >= delSize:
			p = p[delSize:]
		case p[0] == entryPut && len(p) >= putHeader:
			seq, size := binary.BigEndian.Uint64(p[1:]), int(binary.BigEndian.Uint32(p[9:]))
			if next != 0 && seq != next || seq <= maxSeq || size < storedHeader || size > len(p)-putHeader {
				return false
			}
			maxSeq, next = seq, seq+1
			p = p[putHeader+size:]
		default:
			return false
		}
	}
	return true
}

// applyFrame applies the entries of the payload data[start:end] (checked by
// wellFormed) to the index.
func (s *Spool) applyFrame(seg *segment, data []byte, start, end int, st *replayState) {
	for at := start; at < end; {
		switch data[at] {
		case entrySkip: // over damage counted when it was found; records after it may skip numbers
			st.open, st.resync = nil, true
			return
		case entryDel:
			seq := binary.BigEndian.Uint64(data[at+1:])
			if seg, i := s.locate(seq); seg != nil && !seg.slots[i].removed {
				seg.remove(i)
			} else { // a record of a deleted segment, or lost to damage
				st.tombstone(seq)
			}
			st.maxSeq = max(st.maxSeq, seq) // numbers go on after it even if its record's segment is gone
			at += delSize
			continue
		}
		seq := binary.BigEndian.Uint64(data[at+1:])
		if st.resync && seg.nextSeq() != 0 {
			seg.addRemoved(seq - seg.nextSeq()) // the numbers lost to damage
		}
		st.put(seq)
		size := binary.BigEndian.Uint32(data[at+9:])
		record := data[at+putHeader : at+putHeader+int(size)]
		name := s.names.id(recordName(record[storedHeader:]))
		seg.addSlot(seq, slot{off: uint32(at + putHeader), size: size, name: name})
		st.maxSeq = seq
		at += putHeader + int(size)
	}
}

// syncIf fsyncs seg, and counts it, when durable is set.
func (s *Spool) syncIf(durable bool, seg *segment) error {
	if !durable {
		return nil
	}
	s.fsyncs.Add(1)
	return seg.file.Sync()
}
