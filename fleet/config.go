package fleet

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Config says how a replica reaches NATS and how the destination's stream
// is made. Its fields come from the Caddyfile's nats option.
type Config struct {
	// URLs are the NATS servers (nats://, tls://, ws:// or wss://); the
	// client finds the rest of the cluster from any of them.
	URLs []string
	// Stream is the prefix of the streams' names; default AMAZON_CAPI. A
	// destination's stream is <Stream>_<account>_<id>, its dead letters
	// <that>_DEAD.
	Stream string
	// Replicas is how many NATS servers keep each stream, 1–5; default 1.
	// With three servers or more, 3 keeps the queue through one server's loss.
	Replicas int
	// MaxBytes bounds the stream's size; 0 leaves it unbounded. A full
	// stream refuses new events, which wait in the replicas' spools.
	MaxBytes int64
	// CredsFile is a NATS credentials file (JWT and seed).
	CredsFile string
	// NKeySeed is an NKey seed (SU…), the secret itself.
	NKeySeed string
	// User and Password, or Token, authenticate with the servers.
	User, Password, Token string
	// CAFile, CertFile and KeyFile configure TLS: the servers' CA, and the
	// client's certificate and key when the servers ask for one.
	CAFile, CertFile, KeyFile string
}

// DefaultStream is the streams' prefix when Config.Stream is empty.
const DefaultStream = "AMAZON_CAPI"

var streamPrefix = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks the config without opening a connection or a file.
func (c *Config) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("nats needs at least one server URL: nats nats://127.0.0.1:4222")
	}
	for _, u := range c.URLs {
		if err := checkURL(u); err != nil {
			return err
		}
	}
	if c.Stream != "" && !streamPrefix.MatchString(c.Stream) {
		return fmt.Errorf("nats stream %q: use 1 to 64 letters, digits, '_' or '-'", c.Stream)
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		return fmt.Errorf("nats replicas %d: JetStream keeps a stream on 1 to 5 servers", c.Replicas)
	}
	if c.MaxBytes < 0 {
		return fmt.Errorf("nats max_bytes must not be negative")
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("nats tls: give both cert and key, or neither")
	}
	auths := 0
	for _, set := range []bool{c.CredsFile != "", c.NKeySeed != "", c.User != "", c.Token != ""} {
		if set {
			auths++
		}
	}
	if auths > 1 {
		return errors.New("nats: give one of credentials, nkey, user or token")
	}
	if (c.User == "") != (c.Password == "") {
		return errors.New("nats: user needs a password (and a password a user)")
	}
	if c.NKeySeed != "" {
		if _, err := nkeys.FromSeed([]byte(c.NKeySeed)); err != nil {
			return errors.New("nats nkey: not an NKey seed (a seed starts with S; is the {file.*} or {env.*} placeholder right?)")
		}
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("nats server %q: give a URL such as nats://127.0.0.1:4222", redact(raw))
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
		return nil
	}
	return fmt.Errorf("nats server %q: the scheme must be nats, tls, ws or wss", redact(raw))
}

// redact hides whatever a server URL carries before its host: a user
// and password, or a token.
func redact(raw string) string {
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		scheme, _, found := strings.Cut(raw[:i], "://")
		if found {
			return scheme + "://…@" + raw[i+1:]
		}
		return "…@" + raw[i+1:]
	}
	return raw
}

func (c *Config) stream() string {
	if c.Stream == "" {
		return DefaultStream
	}
	return c.Stream
}

func (c *Config) replicas() int { return max(c.Replicas, 1) }

// options are the client's connection options: it keeps trying to connect
// and reconnect for as long as the replica runs, so NATS being down at
// start or later costs waiting, never an error in Caddy.
func (c *Config) options(name string) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectBufSize(-1), // a publish while disconnected fails at once; the spool keeps the event
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.NKeySeed != "" {
		kp, err := nkeys.FromSeed([]byte(c.NKeySeed))
		if err != nil {
			return nil, errors.New("nats nkey: not an NKey seed")
		}
		public, err := kp.PublicKey()
		if err != nil {
			return nil, errors.New("nats nkey: not an NKey seed")
		}
		opts = append(opts, nats.Nkey(public, kp.Sign))
	}
	if c.User != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.Token != "" {
		opts = append(opts, nats.Token(c.Token))
	}
	if c.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if c.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	return opts, nil
}
