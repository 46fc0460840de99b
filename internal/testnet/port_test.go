package testnet

import (
	"fmt"
	"net"
	"testing"
)

func TestFreePortGivesDistinctBindablePortsBelowTheEphemeralRange(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if seen[port] {
			t.Fatalf("port %d given twice", port)
		}
		seen[port] = true
		if start := ephemeralStart(); start-1-lowest >= 1000 && (port < lowest || port >= start) {
			t.Fatalf("port %d outside %d–%d", port, lowest, start-1)
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatalf("port %d: %v", port, err)
		}
		l.Close()
	}
}
