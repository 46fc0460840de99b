package caddymodule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withNATS puts a nats option in moduleCaddyfile's block.
func withNATS(endpoint, spool, nats string) string {
	return strings.Replace(moduleCaddyfile(endpoint, spool, goodEvent), "\t\tspool ", "\t\t"+nats+"\n\t\tspool ", 1)
}

// The nats option is checked when the Caddyfile is adapted and when the
// config is validated (caddy validate), with no network I/O: neither NATS
// (here a listener that counts connections) nor Amazon is contacted.
func TestTheNATSOptionIsCheckedWithoutNetwork(t *testing.T) {
	endpoint, conns := noNetwork(t)
	natsURL := "nats://" + strings.TrimPrefix(endpoint, "http://")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "refresh_token"), []byte("r"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AMAZON_CAPI_TEST_SECRET", "s")
	t.Setenv("NATS_TEST_PASSWORD", "pw")
	for _, good := range []string{
		"nats " + natsURL,
		"nats " + natsURL + " tls://127.0.0.1:4223 {\n\t\t\tstream SHOP\n\t\t\treplicas 3\n\t\t\tmax_bytes 1GiB\n\t\t}",
		"nats " + natsURL + " {\n\t\t\tuser capi {env.NATS_TEST_PASSWORD}\n\t\t\ttls_ca /etc/nats/ca.pem\n\t\t\ttls_cert /etc/nats/c.pem /etc/nats/c.key\n\t\t}",
	} {
		if err := validate(t, withNATS(endpoint, dir, good)); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for bad, want := range map[string]string{
		"nats":                       "at least one server URL",
		"nats 127.0.0.1:4222":        "give a URL such as nats://127.0.0.1:4222",
		"nats http://127.0.0.1:4222": "the scheme must be nats, tls, ws or wss",
		"nats " + natsURL + " {\n\t\t\treplicas 7\n\t\t}":                    "1 to 5 servers",
		"nats " + natsURL + " {\n\t\t\tstreem X\n\t\t}":                      `unknown nats option "streem"; did you mean stream?`,
		"nats " + natsURL + " {\n\t\t\tstream A.B\n\t\t}":                    "use 1 to 64 letters",
		"nats " + natsURL + " {\n\t\t\tuser capi\n\t\t}":                     "wrong argument count",
		"nats " + natsURL + " {\n\t\t\tnkey {env.NATS_TEST_PASSWORD}\n\t\t}": "not an NKey seed",
		"nats nats://capi:hunter2@127.0.0.1:x":                               `"nats://…@127.0.0.1:x"`,
	} {
		err := validate(t, withNATS(endpoint, dir, bad))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", bad, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "pw")) {
			t.Errorf("%q: the error shows a secret: %v", bad, err)
		}
	}
	if conns.Load() != 0 {
		t.Errorf("checking the configs opened %d connections", conns.Load())
	}
}
