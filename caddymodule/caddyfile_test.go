package caddymodule

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

func adapt(caddyfile string) error {
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
	return err
}

// inSite puts a handler block in a site, as the README's blocks are used.
func inSite(block string) string {
	return "{\n\tadmin off\n}\nhttp://localhost:1 {\n" + block + "\n\trespond \"ok\"\n}\n"
}

// TestEveryCaddyfileBlockOfTheDocsAdapts: a block shown in the README or
// in Caddyfile.example that no longer parses is a bug of the docs or of
// the parser.
func TestEveryCaddyfileBlockOfTheDocsAdapts(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```caddyfile\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 3 {
		t.Fatalf("found %d caddyfile blocks in the README", len(blocks))
	}
	for i, b := range blocks {
		config := b[1]
		if strings.HasPrefix(config, "amazon_capi") { // a handler block: used in a site
			config = inSite(config)
		}
		if err := adapt(config); err != nil {
			t.Errorf("README block %d does not adapt: %v\n%s", i+1, err, b[1])
		}
	}
	example, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := adapt(string(example)); err != nil {
		t.Errorf("Caddyfile.example does not adapt: %v", err)
	}
}

func TestTheCaddyfileParserRefusesWhatTheDocsDoNotAllow(t *testing.T) {
	const account = "\t\taccount_id A\n\t\tclient_id c\n\t\taccess_token t\n"
	event := func(fields string) string {
		return "\t\tevent purchase {\n\t\t\ttype OFF_AMAZON_PURCHASES\n\t\t\tcurrency USD\n\t\t\tcountry US\n\t\t\tdedupe_id body.id\n\t\t\tmatch_key EMAIL body.email\n" + fields + "\t\t}\n"
	}
	block := func(body string) string { return inSite("\tamazon_capi {\n" + body + "\t}") }
	cases := []struct{ name, config, want string }{
		{"a repeated option", block(account + "\t\tbatch_size 10\n\t\tbatch_size 20\n" + event("")),
			"batch_size is given twice (first on line 9); keep one, at Caddyfile:10"},
		{"an alias of a given option", block(account + "\t\tentity_id B\n" + event("")), "entity_id is given twice"},
		{"a repeated event field", block(account + event("\t\t\tvalue body.a\n\t\t\tvalue body.b\n")), "value is given twice"},
		{"no account", block("\t\tclient_id c\n\t\taccess_token t\n" + event("")), "amazon_capi needs account_id"},
		{"no credentials", block("\t\taccount_id A\n\t\tclient_id c\n\t\tclient_secret s\n" + event("")), "amazon_capi needs credentials"},
		{"a bad field, at its line", block(account + event("\t\t\tvalue body.x(\n\t\t\tunits_sold body.n\n")),
			`field value: path "body.x(": unclosed '(', at Caddyfile:15`},
		{"a lower-case enum", block(account + event("\t\t\tsource website\n")), `"website" is not a valid EventSource; did you mean WEBSITE?`},
		{"a lower-case match key type", block(account + event("\t\t\tmatch_key email body.e\n")), `did you mean EMAIL?, at Caddyfile:15`},
		{"a misspelt option", block(account + "\t\tbatch_sise 10\n" + event("")), `unknown amazon_capi option "batch_sise"; did you mean batch_size?`},
		{"a misspelt field", block(account + event("\t\t\tcurency USD\n")), `unknown field "curency" in event "purchase"; did you mean currency?`},
		{"a region", block(account + "\t\tregion us\n" + event("")), `region: "us" is not one of na, eu, fe`},
		{"a spool_sync that is not a duration", block(account + "\t\tspool_sync soon\n" + event("")), `spool_sync: "soon" is not a duration such as 200ms, or always`},
		{"a negative spool_sync", block(account + "\t\tspool_sync -1s\n" + event("")), `spool_sync: "-1s" is not a duration`},
		{"a sandbox fault Amazon never sends", inSite("\tamazon_capi_sandbox {\n\t\tfail_status 200\n\t}"),
			"status must be 0 (none) or an error status from 400 to 599"},
		{"a repeated sandbox option", inSite("\tamazon_capi_sandbox {\n\t\tkeep 1\n\t\tkeep 2\n\t}"), "keep is given twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := adapt(c.config)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("adapt: %v\nwant an error containing %q\n%s", err, c.want, c.config)
			}
			if err != nil && strings.Contains(c.name, "enum") && strings.Contains(err.Error(), "path starts with") {
				t.Errorf("an enum's error gives a path hint: %v", err)
			}
		})
	}
	ok := block(account + "\t\tmax_response_body 1MiB\n\t\tregion EU\n\t\tmetrics off\n" + event("\t\t\tmatch {\n\t\t\t\tpath /a\n\t\t\t}\n\t\t\tmatch {\n\t\t\t\tpath /b\n\t\t\t}\n\t\t\tcustom brand body.b\n\t\t\tcustom sku body.s\n"))
	if err := adapt(ok); err != nil {
		t.Errorf("a valid block with repeated match and custom lines: %v", err)
	}
	if err := adapt(block("\t\tdry_run\n" + event(""))); err != nil {
		t.Errorf("a dry_run block without credentials: %v", err)
	}
}

func TestSpoolSyncAdaptsToItsJSON(t *testing.T) {
	for arg, want := range map[string]string{"always": `"spool_sync":-1`, "0": `"spool_sync":-1`, "1s": `"spool_sync":1000000000`} {
		config := inSite("\tamazon_capi {\n\t\taccount_id A\n\t\tclient_id c\n\t\taccess_token t\n\t\tspool_sync " + arg +
			"\n\t\tevent purchase {\n\t\t\ttype OFF_AMAZON_PURCHASES\n\t\t\tcurrency USD\n\t\t\tcountry US\n\t\t\tmatch_key EMAIL body.email\n\t\t}\n\t}")
		out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(config), nil)
		if err != nil {
			t.Fatalf("spool_sync %s: %v", arg, err)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("spool_sync %s adapts to %s\nwant it to hold %s", arg, out, want)
		}
	}
}
