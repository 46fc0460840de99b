//go:build unix

package forward

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used so far (user + system),
// for benchmarks that report CPU per event beside the wall time.
func processCPU() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
