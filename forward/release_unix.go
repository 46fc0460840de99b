//go:build unix

package forward

import (
	"strconv"
	"unsafe"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// initialMmap is how much of the address space bbolt maps at once: room
// for a full spool at the default spool_max_size, so that a growing spool is
// not remapped over and over (each remap copies what bbolt holds in memory
// out of the old mapping). It is address space, not memory: pages count in
// RSS only once touched, and releaseMapped gives them back. 32-bit systems
// keep bbolt's default.
const initialMmap = (1 << 30) * (strconv.IntSize / 64)

// releaseMapped tells the kernel that the process no longer needs the pages
// of the spool file it has mapped (bbolt reads through mmap). They stay in
// the page cache, so nothing is read from disk again, but they stop counting
// in the process's RSS: a spool of a million events is on disk, not in the
// process. The read transaction keeps bbolt from remapping meanwhile.
func (s *Spool) releaseMapped() {
	_ = s.db.View(func(tx *bolt.Tx) error {
		info := s.db.Info()
		start := *(*unsafe.Pointer)(unsafe.Pointer(&info.Data)) // the mapping is not Go memory
		return unix.Madvise(unsafe.Slice((*byte)(start), tx.Size()), unix.MADV_DONTNEED)
	})
}
