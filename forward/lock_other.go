//go:build !unix

package forward

import (
	"os"
	"path/filepath"
)

// lockDir opens the spool directory's lock file. Where flock is missing,
// nothing keeps a second process out: give each Caddy its own spool.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
}

// isUnsupportedSync reports whether syncing a directory failed only because
// the system does not sync directories (Windows cannot).
func isUnsupportedSync(error) bool { return true }
