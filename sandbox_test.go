package caddyamazoncapi

import "github.com/shopsignal/caddy-amazon-capi/sandbox"

// The docs' Caddyfiles use the sandbox handler, which the module itself
// leaves out of a build (package sandbox/caddysandbox adds it).
func init() { sandbox.Register() }
