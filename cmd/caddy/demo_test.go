package main

import (
	"os"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/tidwall/gjson"
)

// demoConfig is Caddyfile.example as `caddy run` adapts it with the
// environment's SHOP_PORT and SANDBOX_PORT.
type demoConfig struct {
	admin     string   // the admin endpoint
	listeners []string // every site listener
	spool     string   // the amazon_capi spool
	endpoint  string   // where the events go
	sandbox   string   // where the shop page's /sandbox link leads
}

func adaptDemo(t *testing.T, shopPort, sandboxPort string) demoConfig {
	t.Helper()
	t.Setenv("SHOP_PORT", shopPort)
	t.Setenv("SANDBOX_PORT", sandboxPort)
	if shopPort == "" {
		os.Unsetenv("SHOP_PORT") // t.Setenv restores it afterwards
		os.Unsetenv("SANDBOX_PORT")
	}
	raw, err := os.ReadFile("../../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	adapted, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(raw, map[string]any{"filename": "Caddyfile.example"})
	if err != nil {
		t.Fatalf("adapting: %v %v", err, warnings)
	}
	cfg := gjson.ParseBytes(adapted)
	d := demoConfig{admin: cfg.Get("admin.listen").String()}
	cfg.Get("apps.http.servers.@values.#.listen|@flatten").ForEach(func(_, v gjson.Result) bool {
		d.listeners = append(d.listeners, v.String())
		return true
	})
	// The handlers sit in subroutes; a flat search finds them.
	var walk func(v gjson.Result)
	walk = func(v gjson.Result) {
		switch {
		case v.IsObject():
			if v.Get("handler").String() == "amazon_capi" {
				d.spool, d.endpoint = v.Get("spool").String(), v.Get("endpoint").String()
			}
			if loc := v.Get(`headers.Location.0`); loc.Exists() {
				d.sandbox = loc.String()
			}
			v.ForEach(func(_, c gjson.Result) bool { walk(c); return true })
		case v.IsArray():
			v.ForEach(func(_, c gjson.Result) bool { walk(c); return true })
		}
	}
	walk(cfg)
	return d
}

// TestTwoDemosRunSideBySideWithOtherPortsAlone: a second demo started with
// SHOP_PORT and SANDBOX_PORT alone shares no listener, admin endpoint or
// spool with the first, sends to its own sandbox and links to it.
func TestTwoDemosRunSideBySideWithOtherPortsAlone(t *testing.T) {
	first := adaptDemo(t, "", "")
	if first.admin != "localhost:28080" || strings.Join(first.listeners, " ") != "127.0.0.1:8080 127.0.0.1:8081" ||
		first.spool != "./demo/spool/8080" || first.endpoint != "http://localhost:8081" || first.sandbox != "http://localhost:8081/" {
		t.Errorf("the default demo: %+v", first)
	}
	second := adaptDemo(t, "9080", "9081")
	if second.endpoint != "http://localhost:9081" || second.sandbox != "http://localhost:9081/" {
		t.Errorf("the second demo does not send to or link to its own sandbox: %+v", second)
	}
	taken := map[string]bool{first.admin: true, first.spool: true}
	for _, l := range first.listeners {
		taken[l] = true
	}
	for _, v := range append([]string{second.admin, second.spool}, second.listeners...) {
		if taken[v] {
			t.Errorf("both demos use %s: %+v and %+v", v, first, second)
		}
	}
	if len(second.listeners) != 2 || second.spool == "" || second.admin == "" {
		t.Errorf("the second demo: %+v", second)
	}
}
