//go:build unix

package forward

import (
	"unsafe"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

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
