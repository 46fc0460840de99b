//go:build unix

package caddymodule

import (
	"os"

	"golang.org/x/sys/unix"
)

// writable reports whether this process may write path: a file, or a
// directory it may create files in. Nothing is written.
func writable(path string) bool {
	mode := uint32(unix.W_OK)
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		mode |= unix.X_OK
	}
	return unix.Access(path, mode) == nil
}
