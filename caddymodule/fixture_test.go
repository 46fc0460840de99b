package caddymodule

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	caddyfmt "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Test Caddyfiles are built, not written out by hand:
//
//	fixture().
//		site(port, amazonCAPI().sandboxAt(sb).account("ACCT").spool(dir).
//			event(purchase().match("path /checkout").key("EMAIL", "body.email")),
//			respondOK).
//		sandboxSite(sb, "ACCT").
//		String()
//
// is the harness's global options (admin port, storage, no HTTPS), a site on
// 127.0.0.1:port with the module and `respond "ok"`, and a site on sb with
// the sandbox as Amazon, written as `caddy fmt` writes them.
//
// The defaults are what a block needs to load: amazonCAPI() has the
// credentials c, s and r (the sandbox takes any unless told otherwise),
// event() the country US and, when no key is given, the request's IP as the
// match key; purchase() the currency USD. Values are written as given: a
// constant dedupe_id or match key must be written literal:<v>.

const respondOK = `respond "ok"`

// line is a line of a Caddyfile: words, and a block when body is not empty.
type line struct {
	words string
	body  []line
}

// block is a directive with a block: block("amazon_capi", "import shared").
func block(words string, body ...any) line { return line{words, lines(body)} }

// lines turns what a builder was given into lines: a string is one line, a
// block or builder its block.
func lines(items []any) []line {
	var out []line
	for _, item := range items {
		switch v := item.(type) {
		case string:
			out = append(out, line{words: v})
		case line:
			out = append(out, v)
		case interface{ line() line }:
			out = append(out, v.line())
		default:
			panic(fmt.Sprintf("fixture: cannot write a %T in a Caddyfile", item))
		}
	}
	return out
}

func words(args ...any) string { return strings.TrimSuffix(fmt.Sprintln(args...), "\n") }

func (l line) write(b *strings.Builder, depth int) {
	b.WriteString(strings.Repeat("\t", depth) + l.words)
	if len(l.body) == 0 {
		b.WriteString("\n")
		return
	}
	b.WriteString(" {\n")
	for _, child := range l.body {
		child.write(b, depth+1)
	}
	b.WriteString(strings.Repeat("\t", depth) + "}\n")
}

func (l line) name() string {
	name, _, _ := strings.Cut(l.words, " ")
	return name
}

// options are lines whose names (first words) are unique: setting one
// again replaces its line.
type options []line

func (o *options) set(name string, args ...any) {
	l := line{words: words(append([]any{name}, args...)...)}
	if i := slices.IndexFunc(*o, func(x line) bool { return x.name() == name }); i >= 0 {
		(*o)[i] = l
	} else {
		*o = append(*o, l)
	}
}

func (o *options) unset(names ...string) {
	*o = slices.DeleteFunc(*o, func(x line) bool { return slices.Contains(names, x.name()) })
}

// caddyfileFixture is a whole Caddyfile: global options, snippets, sites.
type caddyfileFixture struct {
	globals, blocks []line
}

// fixture starts a Caddyfile with the global options of every in-process
// test config (see loadCaddy).
func fixture() *caddyfileFixture {
	return &caddyfileFixture{globals: lines([]any{
		fmt.Sprintf("admin localhost:%d", adminPort), "default_bind 127.0.0.1", "auto_https off",
		"persist_config off", "skip_install_trust", "storage file_system " + os.TempDir() + "/amazon-capi-test-storage",
	})}
}

// logTo writes Caddy's log to file, with more log settings ("level DEBUG").
func (f *caddyfileFixture) logTo(file string, settings ...any) *caddyfileFixture {
	f.globals = append(f.globals, block("log", append([]any{"output file " + file}, settings...)...))
	return f
}

// site adds a site on 127.0.0.1:port with directives: strings
// ("reverse_proxy …"), amazonCAPI() builders, block(…)s.
func (f *caddyfileFixture) site(port int, directives ...any) *caddyfileFixture {
	f.blocks = append(f.blocks, block(fmt.Sprintf("http://127.0.0.1:%d", port), directives...))
	return f
}

// sandboxSite adds a site that plays Amazon for account (any if ""), with
// more sandbox options ("delay 2s").
func (f *caddyfileFixture) sandboxSite(port int, account string, settings ...any) *caddyfileFixture {
	if account != "" {
		settings = append([]any{"account_id " + account}, settings...)
	}
	return f.site(port, block("amazon_capi_sandbox", settings...))
}

// snippet adds (name) { … } to import; of an amazonCAPI() builder it holds
// the options and events, without the directive.
func (f *caddyfileFixture) snippet(name string, body ...any) *caddyfileFixture {
	var content []line
	for _, item := range body {
		if c, ok := item.(*capiBlock); ok {
			content = append(content, c.line().body...)
		} else {
			content = append(content, lines([]any{item})...)
		}
	}
	f.blocks = append(f.blocks, line{"(" + name + ")", content})
	return f
}

func (f *caddyfileFixture) String() string {
	var b strings.Builder
	b.WriteString("{\n")
	for _, l := range f.globals {
		l.write(&b, 1)
	}
	b.WriteString("}\n")
	for _, l := range f.blocks {
		b.WriteString("\n")
		l.write(&b, 0)
	}
	return b.String()
}

// capiBlock builds an amazon_capi block: a destination and its events.
type capiBlock struct {
	options options
	events  []*eventBlock
}

// amazonCAPI starts an amazon_capi block with credentials; it needs an
// account_id.
func amazonCAPI() *capiBlock { return (&capiBlock{}).credentials("c", "s", "r") }

// set sets any option (no args for a flag).
func (c *capiBlock) set(option string, args ...any) *capiBlock {
	c.options.set(option, args...)
	return c
}

// amazonAt points the endpoint and the token URL at an Amazon at base.
func (c *capiBlock) amazonAt(base string) *capiBlock {
	return c.set("endpoint", base).set("token_url", base+"/auth/o2/token")
}

// sandboxAt points the block at a sandboxSite on port.
func (c *capiBlock) sandboxAt(port int) *capiBlock {
	return c.amazonAt(fmt.Sprintf("http://127.0.0.1:%d", port))
}

// credentials logs in with a client and a refresh token.
func (c *capiBlock) credentials(clientID, secret, refresh string) *capiBlock {
	c.options.unset("access_token")
	return c.set("client_id", clientID).set("client_secret", secret).set("refresh_token", refresh)
}

// accessToken logs in with a fixed access token.
func (c *capiBlock) accessToken(token string) *capiBlock {
	c.options.unset("client_secret", "refresh_token")
	return c.set("access_token", token)
}

// dryRun builds events and sends none, without credentials.
func (c *capiBlock) dryRun() *capiBlock {
	c.options.unset("client_id", "client_secret", "refresh_token", "access_token")
	return c.set("dry_run")
}

func (c *capiBlock) account(id string) *capiBlock             { return c.set("account_id", id) }
func (c *capiBlock) region(r string) *capiBlock               { return c.set("region", r) }
func (c *capiBlock) api(version string) *capiBlock            { return c.set("api", version) }
func (c *capiBlock) spool(dir string) *capiBlock              { return c.set("spool", dir) }
func (c *capiBlock) batchSize(n int) *capiBlock               { return c.set("batch_size", n) }
func (c *capiBlock) flushInterval(d time.Duration) *capiBlock { return c.set("flush_interval", d) }

func (c *capiBlock) event(events ...*eventBlock) *capiBlock {
	c.events = append(c.events, events...)
	return c
}

func (c *capiBlock) line() line {
	body := slices.Clone(c.options)
	for _, e := range c.events {
		body = append(body, e.line())
	}
	return line{"amazon_capi", body}
}

// String is the block alone, for a dispenser.
func (c *capiBlock) String() string {
	var b strings.Builder
	c.line().write(&b, 0)
	return b.String()
}

// eventBlock builds an event of an amazon_capi block.
type eventBlock struct {
	name                   string
	matches                []line // match and when_response blocks
	fields                 options
	matchKeys, customLines []line
}

// event starts an event of a conversion type, in the US.
func event(name, conversionType string) *eventBlock {
	return (&eventBlock{name: name}).set("type", conversionType).country("US")
}

func purchase() *eventBlock { return event("purchase", "OFF_AMAZON_PURCHASES").currency("USD") }
func signup() *eventBlock   { return event("signup", "SIGN_UP") }

// set sets any field given once (timestamp, units_sold, consent_ip, …).
func (e *eventBlock) set(field string, args ...any) *eventBlock {
	e.fields.set(field, args...)
	return e
}

func (e *eventBlock) country(v string) *eventBlock  { return e.set("country", v) }
func (e *eventBlock) currency(v string) *eventBlock { return e.set("currency", v) }
func (e *eventBlock) dedupeID(v string) *eventBlock { return e.set("dedupe_id", v) }
func (e *eventBlock) value(v string) *eventBlock    { return e.set("value", v) }

// match adds a request matcher: match("method POST", "path /checkout").
func (e *eventBlock) match(matchers ...any) *eventBlock {
	e.matches = append(e.matches, block("match", matchers...))
	return e
}

// whenResponse adds a response matcher: whenResponse("status 2xx").
func (e *eventBlock) whenResponse(matchers ...any) *eventBlock {
	e.matches = append(e.matches, block("when_response", matchers...))
	return e
}

// key adds a match key: key("EMAIL", "body.email").
func (e *eventBlock) key(keyType, value string) *eventBlock {
	e.matchKeys = append(e.matchKeys, line{words: words("match_key", keyType, value)})
	return e
}

// custom adds a custom attribute: custom("status", "response.status", "INTEGER").
func (e *eventBlock) custom(args ...any) *eventBlock {
	e.customLines = append(e.customLines, line{words: words(append([]any{"custom"}, args...)...)})
	return e
}

func (e *eventBlock) line() line {
	keys := e.matchKeys
	if len(keys) == 0 {
		keys = lines([]any{"match_key FIP request.remote_ip"})
	}
	return line{"event " + e.name, slices.Concat(e.matches, e.fields, keys, e.customLines)}
}

// The builder writes what `caddy fmt` writes, and what it builds adapts.
func TestTheFixtureBuilderWritesFormattedCaddyfiles(t *testing.T) {
	dir := t.TempDir()
	shared := amazonCAPI().sandboxAt(2).account("A").spool(dir).batchSize(5).flushInterval(10 * time.Millisecond)
	cfg := fixture().logTo(dir+"/log", "level DEBUG").
		snippet("shared", shared).
		site(1, `header /a X-A {http.amazon_capi.signup.event_id}`,
			amazonCAPI().account("B").accessToken("t").event(
				purchase().match("method POST", "path /checkout").whenResponse("status 2xx").
					dedupeID("body.id").key("EMAIL", "body.email").custom("status", "response.status", "INTEGER"),
				signup().set("consent_ip", "-")),
			amazonCAPI().account("C").dryRun().event(signup()),
			block("amazon_capi", "import shared", purchase()),
			respondOK).
		sandboxSite(2, "A", "delay 1s").
		sandboxSite(3, "").
		String()
	if formatted := string(caddyfmt.Format([]byte(cfg))); formatted != cfg {
		t.Errorf("caddy fmt would change\n%s\ninto\n%s", cfg, formatted)
	}
	if err := adapt(cfg); err != nil {
		t.Errorf("%v\n%s", err, cfg)
	}
	want := `
		access_token t
		event purchase {
			match {
				method POST
				path /checkout
			}
			when_response {
				status 2xx
			}
			type OFF_AMAZON_PURCHASES
			country US
			currency USD
			dedupe_id body.id
			match_key EMAIL body.email
			custom status response.status INTEGER
		}
		event signup {
			type SIGN_UP
			country US
			consent_ip -
			match_key FIP request.remote_ip
		}
`
	if !strings.Contains(cfg, want) {
		t.Errorf("the block is not as written:\n%s\nwant\n%s", cfg, want)
	}
}
