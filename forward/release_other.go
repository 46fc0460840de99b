//go:build !unix

package forward

// releaseMapped does nothing where madvise is not available.
func (s *Spool) releaseMapped() {}
