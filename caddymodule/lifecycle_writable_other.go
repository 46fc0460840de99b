//go:build !unix

package caddymodule

// writable cannot be told without writing on this system; opening the
// spool when the config starts reports a folder that is not writable.
func writable(string) bool { return true }
