package forward

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A spool opens under a limit on the address space (ulimit -v): the bbolt
// spool it replaced mapped 1 GiB up front and had to fall back. The check runs in a child process, which
// lowers its own limit to what it uses plus 256 MiB.
func TestASpoolOpensUnderAnAddressSpaceLimit(t *testing.T) {
	if dir := os.Getenv("SPOOL_ADDRESS_LIMIT_CHILD"); dir != "" {
		used := virtualSize(t)
		var current unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_AS, &current); err != nil {
			t.Fatal(err)
		}
		limit := min(used+256<<20, current.Max) // a lower hard limit set outside is kept
		if err := unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
			t.Fatal(err)
		}
		s, err := OpenSpool(filepath.Join(dir, "spool"))
		if err != nil {
			t.Fatalf("with %d MiB of address space left: %v", (limit-used)>>20, err)
		}
		defer s.Close()
		if err := s.Append([]json.RawMessage{json.RawMessage(`{"eventId":"e-1"}`)}, time.Now()); err != nil || s.Len() != 1 {
			t.Fatalf("append: %v; the spool holds %d", err, s.Len())
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestASpoolOpensUnderAnAddressSpaceLimit$", "-test.v")
	cmd.Env = append(os.Environ(), "SPOOL_ADDRESS_LIMIT_CHILD="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("the child did not run the check:\n%s", out)
	}
}

// virtualSize is the process's address space in use (VmSize), in bytes.
func virtualSize(t *testing.T) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmSize in /proc/self/status")
	return 0
}
