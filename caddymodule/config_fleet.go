package caddymodule

import (
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
	"github.com/shopsignal/caddy-amazon-capi/fleet"
	"github.com/shopsignal/caddy-amazon-capi/internal/caddyopts"
)

// NATS puts the destination in fleet mode: every Caddy replica with the
// same destination ships its spooled events into one NATS JetStream
// stream, and every replica delivers from it (package fleet). Secrets
// should be {env.*} or {file.*} placeholders.
type NATS struct {
	// Servers are the NATS servers' URLs (nats://, tls://, ws://, wss://).
	Servers []string `json:"servers,omitempty"`
	// Stream is the prefix of the streams' names. Default: AMAZON_CAPI.
	Stream string `json:"stream,omitempty"`
	// Replicas is how many NATS servers keep each stream, 1–5. Default: 1;
	// 3 on a cluster of three servers or more.
	Replicas int `json:"replicas,omitempty"`
	// MaxBytes bounds the stream's size; a full stream refuses events,
	// which wait in the replicas' spools. Default: unbounded.
	MaxBytes int64 `json:"max_bytes,omitempty"`
	// Credentials is the path of a NATS credentials file.
	Credentials string `json:"credentials,omitempty"`
	// NKey is an NKey seed (a secret: give a placeholder).
	NKey string `json:"nkey,omitempty"`
	// User is the user name to authenticate with.
	User string `json:"user,omitempty"`
	// Password is the user's password (a secret: give a placeholder).
	Password string `json:"password,omitempty"`
	// Token authenticates with the servers.
	Token string `json:"token,omitempty"`
	// TLSCA is the CA file that signs the servers' certificates.
	TLSCA string `json:"tls_ca,omitempty"`
	// TLSCert is the client's certificate file, for servers that ask for one.
	TLSCert string `json:"tls_cert,omitempty"`
	// TLSKey is the client certificate's key file.
	TLSKey string `json:"tls_key,omitempty"`
}

// unmarshalNATS reads
//
//	nats <url> [<url>…] {
//		stream      <prefix>
//		replicas    <1–5>
//		max_bytes   <size>
//		credentials <file>
//		nkey        <seed>
//		user        <name> <password>
//		token       <token>
//		tls_ca      <file>
//		tls_cert    <file> <key file>
//	}
func unmarshalNATS(d *caddyfile.Dispenser) (*NATS, error) {
	n := &NATS{Servers: d.RemainingArgs()}
	if len(n.Servers) == 0 {
		return nil, d.Err("nats needs at least one server URL: nats nats://127.0.0.1:4222")
	}
	seen := once{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		if err := seen.check(d, option); err != nil {
			return nil, err
		}
		var err error
		switch option {
		case "stream":
			err = caddyopts.One(d, &n.Stream)
		case "replicas":
			err = caddyopts.Count(d, &n.Replicas)
		case "max_bytes":
			err = parseSize(d, &n.MaxBytes)
		case "credentials":
			err = caddyopts.One(d, &n.Credentials)
		case "nkey":
			err = caddyopts.One(d, &n.NKey)
		case "user":
			err = twoArgs(d, &n.User, &n.Password)
		case "token":
			err = caddyopts.One(d, &n.Token)
		case "tls_ca":
			err = caddyopts.One(d, &n.TLSCA)
		case "tls_cert":
			err = twoArgs(d, &n.TLSCert, &n.TLSKey)
		default:
			err = d.Errf("unknown nats option %q%s", option, caddyopts.Suggest(option, natsOptions))
		}
		if err != nil {
			return nil, err
		}
	}
	// A value with a placeholder is checked when the config loads, with
	// the placeholder resolved; here it stands in as set.
	probe := n.config(func(v string) string { return v })
	for i, u := range probe.URLs {
		if strings.Contains(u, "{") {
			probe.URLs[i] = "nats://127.0.0.1:4222"
		}
	}
	for _, v := range []*string{&probe.Stream, &probe.NKeySeed} {
		if strings.Contains(*v, "{") {
			*v = ""
		}
	}
	if err := probe.Validate(); err != nil {
		return nil, d.Err(err.Error())
	}
	return n, nil
}

var natsOptions = amazon.NewEnum("nats option", "stream", "replicas", "max_bytes", "credentials", "nkey", "user", "token", "tls_ca", "tls_cert")

func twoArgs(d *caddyfile.Dispenser, a, b *string) error {
	args := d.RemainingArgs()
	if len(args) != 2 {
		return d.ArgErr()
	}
	*a, *b = args[0], args[1]
	return nil
}

// config is the fleet config with get applied to each value (placeholders
// resolved when the config loads).
func (n *NATS) config(get func(string) string) fleet.Config {
	c := fleet.Config{Stream: get(n.Stream), Replicas: n.Replicas, MaxBytes: n.MaxBytes,
		CredsFile: get(n.Credentials), NKeySeed: get(n.NKey), User: get(n.User), Password: get(n.Password), Token: get(n.Token),
		CAFile: get(n.TLSCA), CertFile: get(n.TLSCert), KeyFile: get(n.TLSKey)}
	for _, u := range n.Servers {
		c.URLs = append(c.URLs, get(u))
	}
	return c
}

// resolveNATS resolves the nats option's placeholders and checks it, with
// no network I/O (caddy validate runs it).
func resolveNATS(n *NATS) (*fleet.Config, error) {
	if n == nil {
		return nil, nil
	}
	repl := caddy.NewReplacer()
	c := n.config(func(v string) string { return strings.TrimSpace(repl.ReplaceKnown(v, "")) })
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}
