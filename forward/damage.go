package forward

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
)

// Damage is a stretch of a spool segment that failed its checks when the
// spool was opened, and what it cost.
//
// A frame in the middle of a segment that fails its checksum (bit rot, a
// bad sector, a partial page write) costs that frame alone: the frames
// after it are found again (by the damaged frame's length, or by scanning
// for the next frame whose checksum verifies) and kept. The stretch is
// overwritten by a skip frame, so that the damage is found and counted
// once, and the segment's bytes as they were are kept beside it, named
// <segment>.damaged, until the segment is deleted. A stretch that nothing
// intact follows is cut off the end of its segment.
type Damage struct {
	// Segment is the segment file's path.
	Segment string
	// Offset is where the damaged stretch starts in the segment.
	Offset int64
	// Bytes is the damaged stretch's length (for several damaged frames
	// with no record between them, their stretches' total).
	Bytes int64
	// Events is how many spooled events were lost in it: those whose
	// records it held and that had not been removed (delivered) since.
	Events uint64
	// Exact is set when Events is exact; else it is a lower bound (the
	// frame's header could not be read, and no record after it tells
	// where its records ended).
	Exact bool
	// Reason is LostTornTail for the end of the newest segment (a write
	// that a power cut or an OS crash interrupted), LostDamagedFrame for
	// anything else.
	Reason string
}

// The reasons of a Damage, which are also the reason label of the lost
// events' metric.
const (
	// LostDamagedFrame is a frame that failed its checks and is not the
	// end of the log: the disk damaged what was written.
	LostDamagedFrame = "damaged_frame"
	// LostTornTail is the end of the log cut short or failing its checks:
	// a write a power cut or an OS crash interrupted. Its events had been
	// taken from the site (with spool_sync above zero, as spooled).
	LostTornTail = "torn_tail"
)

// entrySkip starts the payload of a skip frame, written over a damaged
// stretch: the rest of the payload is padding, and the next record may
// skip sequence numbers (those lost in the stretch).
const entrySkip = 'S'

// maxSeqJump bounds how far past the highest sequence number read so far
// the first record after damage may be: a frame holds far fewer records,
// and the bound keeps the scan from computing checksums at every byte of
// the records it passes over.
const maxSeqJump = 1 << 24

// replayState is what reading the log has learnt so far.
type replayState struct {
	// maxSeq is the highest sequence number read so far; lastPut the
	// number of the last record read (0 before the first).
	maxSeq, lastPut uint64
	// resync is set after damage or a skip frame: the next record may skip
	// sequence numbers.
	resync bool
	// open is the gap of the last damage while resync is set by it.
	open *gap
	gaps []*gap
}

// gap is the sequence numbers a damaged stretch (or several with no record
// between them) held.
type gap struct {
	damage *Damage
	// from is the first number lost, when known (fromKnown): the next one
	// of the segment's records, or the first record read from the damaged
	// frame.
	from      uint64
	fromKnown bool
	// to is the number of the first record after the damage; 0 until read.
	to uint64
	// salvaged counts the records read from the damaged frames' entries
	// as far as they still parse; whole is set when they parsed whole.
	salvaged uint64
	whole    bool
	// removed counts the tombstones read after the damage for numbers in
	// the gap: events delivered before the damage, not lost.
	removed uint64
}

// frameAt checks the frame at off of data: it is whole, its checksum
// verifies and its entries are well formed, their records following on
// from the segment's (or skipping numbers after damage). It returns where
// the frame ends.
func (st *replayState) frameAt(seg *segment, data []byte, off int) (int, bool) {
	if len(data)-off < frameHeader {
		return 0, false
	}
	n := int(binary.BigEndian.Uint32(data[off:]))
	end := off + frameHeader + n
	if n == 0 || end > len(data) {
		return 0, false
	}
	payload := data[off+frameHeader : end]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(data[off+4:]) {
		return 0, false
	}
	next := seg.nextSeq()
	if st.resync {
		if !st.near(payload) {
			return 0, false
		}
		next = 0
	}
	return end, wellFormed(payload, next, st.maxSeq)
}

// near reports whether the payload's first record, if it has one, is
// within maxSeqJump of the records read so far.
func (st *replayState) near(p []byte) bool {
	for len(p) >= delSize && p[0] == entryDel {
		p = p[delSize:]
	}
	return len(p) < delSize || p[0] != entryPut || binary.BigEndian.Uint64(p[1:]) <= st.maxSeq+maxSeqJump
}

// nextFrame returns where the next intact frame after the damaged one at
// off starts, or -1 if none does: first where the damaged frame's length
// says, then at each byte after it.
func (st *replayState) nextFrame(seg *segment, data []byte, off int) int {
	resync := st.resync
	st.resync = true // the frame found may skip the numbers the damaged one held
	defer func() { st.resync = resync }()
	if len(data)-off >= frameHeader {
		if at := off + frameHeader + int(binary.BigEndian.Uint32(data[off:])); at > off+frameHeader && at < len(data) {
			if _, ok := st.frameAt(seg, data, at); ok {
				return at
			}
		}
	}
	for at := off + 1; len(data)-at > frameHeader; at++ {
		if st.plausibleFrame(data, at) {
			if _, ok := st.frameAt(seg, data, at); ok {
				return at
			}
		}
	}
	return -1
}

// plausibleFrame is a cheap look at whether a frame could start at off:
// its length fits in data and its first entry's sequence number is near
// the ones read so far. Only then is its checksum worth computing.
func (st *replayState) plausibleFrame(data []byte, off int) bool {
	n := int(binary.BigEndian.Uint32(data[off:]))
	if n == 0 || n > len(data)-off-frameHeader {
		return false
	}
	p := data[off+frameHeader:]
	switch {
	case p[0] == entrySkip:
		return true
	case (p[0] == entryPut || p[0] == entryDel) && len(p) >= delSize:
		seq := binary.BigEndian.Uint64(p[1:])
		return seq <= st.maxSeq+maxSeqJump && (p[0] == entryDel || seq > st.maxSeq)
	}
	return false
}

// damaged notes the damaged stretch data[off:end] of seg: a new gap, or
// more of the open one when no record came after the last damage.
func (st *replayState) damaged(seg *segment, data []byte, off, end int, reason string) *Damage {
	first, puts, whole := salvage(data[off:end])
	if g := st.open; g != nil && st.resync {
		g.damage.Bytes += int64(end - off)
		g.damage.Reason = reason
		g.salvaged += uint64(puts)
		g.whole = g.whole && whole
		return g.damage
	}
	g := &gap{damage: &Damage{Segment: seg.file.Name(), Offset: int64(off), Bytes: int64(end - off), Reason: reason},
		salvaged: uint64(puts), whole: whole}
	switch {
	case !st.resync && st.lastPut != 0: // records are numbered on from the last one, across segments
		g.from, g.fromKnown = st.lastPut+1, true
	case puts > 0 && first > st.maxSeq:
		g.from, g.fromKnown = first, true
	}
	st.gaps = append(st.gaps, g)
	st.open, st.resync = g, true
	return g.damage
}

// salvage reads a damaged frame's entries as far as they still parse (a
// flipped byte in a record leaves them whole): the first record's number,
// how many records, and whether the frame parsed whole.
func salvage(frame []byte) (first uint64, puts int, whole bool) {
	if len(frame) < frameHeader {
		return 0, 0, false
	}
	p := frame[frameHeader:]
	n := int(binary.BigEndian.Uint32(frame))
	declared := n > 0 && n <= len(p) // else the header is unreadable: what it held is unknown
	if declared {
		p = p[:n]
	}
	for len(p) > 0 {
		switch {
		case p[0] == entryDel && len(p) >= delSize:
			p = p[delSize:]
		case p[0] == entryPut && len(p) >= putHeader:
			seq, size := binary.BigEndian.Uint64(p[1:]), int(binary.BigEndian.Uint32(p[9:]))
			if size < storedHeader || size > len(p)-putHeader || puts > 0 && seq != first+uint64(puts) {
				return first, puts, false
			}
			if puts == 0 {
				first = seq
			}
			puts++
			p = p[putHeader+size:]
		default:
			return first, puts, false
		}
	}
	return first, puts, declared
}

// put is told of each record read: a record after damage closes its gap.
func (st *replayState) put(seq uint64) {
	st.lastPut = seq
	if st.open != nil && st.open.to == 0 {
		st.open.to = seq
	}
	st.open, st.resync = nil, false
}

// tombstone is told of each removal of a record that is not in the log: if
// the record was in a gap, it was delivered before the damage.
func (st *replayState) tombstone(seq uint64) {
	for _, g := range st.gaps {
		if g.fromKnown && seq >= g.from && (g.to == 0 || seq < g.to) {
			g.removed++
			return
		}
	}
}

// finish works out what each damage cost, now that the whole log is read.
func (st *replayState) finish() []Damage {
	out := make([]Damage, 0, len(st.gaps))
	for _, g := range st.gaps {
		d := *g.damage
		switch {
		case g.to != 0 && g.fromKnown && g.to >= g.from:
			d.Events, d.Exact = sub(g.to-g.from, g.removed), true
		case g.fromKnown:
			d.Events, d.Exact = sub(g.salvaged, g.removed), g.whole
		default:
			d.Events, d.Exact = g.salvaged, g.whole && g.salvaged == 0
		}
		out = append(out, d)
	}
	return out
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// repair overwrites the damaged stretches of seg (middle ones, each as
// long as a frame header at least) with skip frames and cuts a damaged end
// off at tail (len(data) when there is none), after copying the segment's
// bytes as they were to <segment>.damaged. It fsyncs the segment.
func repair(seg *segment, data []byte, stretches [][2]int, tail int) error {
	name := seg.file.Name()
	if err := keepAside(name, data); err != nil {
		return err
	}
	for _, s := range stretches {
		if s[1]-s[0] <= frameHeader {
			continue // too short for a skip frame: found (with no events lost) again at the next open
		}
		if _, err := seg.file.WriteAt(skipFrame(s[1]-s[0]), int64(s[0])); err != nil {
			return fmt.Errorf("repairing %s: %w", name, err)
		}
	}
	if tail < len(data) {
		if err := seg.file.Truncate(int64(tail)); err != nil {
			return fmt.Errorf("cutting the damaged end of %s: %w", name, err)
		}
	}
	return seg.file.Sync()
}

// skipFrame is a frame of size bytes whose payload is a skip entry.
func skipFrame(size int) []byte {
	f := make([]byte, size)
	payload := f[frameHeader:]
	payload[0] = entrySkip
	binary.BigEndian.PutUint32(f, uint32(len(payload)))
	binary.BigEndian.PutUint32(f[4:], crc32.Checksum(payload, castagnoli))
	return f
}

// keepAside writes data to <name>.damaged, unless a copy is there already
// (from an earlier repair of the same segment, which it keeps).
func keepAside(name string, data []byte) error {
	f, err := os.OpenFile(name+damagedExt, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if os.IsExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keeping the damaged segment's bytes aside: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("keeping the damaged segment's bytes aside: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// damagedExt ends the name of a repaired segment's original bytes.
const damagedExt = ".damaged"
