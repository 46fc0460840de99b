//go:build !unix

package forward

// releaseMapped does nothing where madvise is not available.
func (s *Spool) releaseMapped() {}

// initialMmap keeps bbolt's default mapping: on Windows bbolt grows the file
// to the size it maps.
const initialMmap = 0
