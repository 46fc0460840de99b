// Package testnet gives the project's tests loopback ports.
package testnet

import (
	"net"
	"sync"
)

var (
	givenMu sync.Mutex
	given   = map[int]bool{}
)

// FreePort returns a loopback port that was free a moment ago and that it
// has not returned before in this process: the kernel may hand a port that
// was just closed out again, and one config must not get the same port
// twice.
func FreePort() (int, error) {
	givenMu.Lock()
	defer givenMu.Unlock()
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
