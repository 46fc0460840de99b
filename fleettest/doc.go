// Package fleettest tests fleet mode against real NATS servers. It is a
// module of its own so that the NATS server, which the tests run, is not
// among the plugin's requirements: a user's Caddy build gets the NATS
// client only.
package fleettest
