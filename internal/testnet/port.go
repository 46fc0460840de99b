// Package testnet gives the project's tests loopback ports.
package testnet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
)

var (
	givenMu sync.Mutex
	given   = map[int]bool{}
)

// lowest is the bottom of the range FreePort picks from.
const lowest = 10000

// FreePort returns a loopback port that was free a moment ago and that it
// has not returned before in this process. It picks below the kernel's
// ephemeral range, where a port it returns cannot be taken in the meantime
// by the source port of an outgoing connection or by a listener bound to
// port 0 (an httptest server); thousands of test connections made that
// happen ("address already in use").
func FreePort() (int, error) {
	givenMu.Lock()
	defer givenMu.Unlock()
	top := ephemeralStart() - 1
	if top-lowest < 1000 {
		return fromKernel()
	}
	for range 1000 {
		port := lowest + rand.IntN(top-lowest+1)
		if given[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // in use
		}
		l.Close()
		given[port] = true
		return port, nil
	}
	return fromKernel()
}

// fromKernel lets the kernel choose, for systems whose ephemeral range
// leaves no room below it.
func fromKernel() (int, error) {
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !given[port] {
			given[port] = true
			return port, nil
		}
	}
}

// ephemeralStart is the first port of Linux's ephemeral range, or the
// IANA one's elsewhere.
func ephemeralStart() int {
	start := 49152
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var end int
		if n, _ := fmt.Sscan(string(b), &start, &end); n != 2 {
			start = 49152
		}
	}
	return start
}
