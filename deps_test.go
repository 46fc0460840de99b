package caddyamazoncapi

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestNoDependencyIsNewerThanCaddysOwn: a user's Caddy build takes the
// newest version any plugin asks for; the plugin must not move Caddy's own
// dependencies (Prometheus' client above all) past what Caddy was
// released and tested with.
func TestNoDependencyIsNewerThanCaddysOwn(t *testing.T) {
	graph, err := exec.Command("go", "mod", "graph").Output()
	if err != nil {
		t.Fatal(err)
	}
	caddys := map[string]string{} // module → version Caddy requires
	var caddy string
	for _, line := range strings.Split(string(graph), "\n") {
		from, to, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if strings.HasPrefix(from, "github.com/caddyserver/caddy/v2@") {
			caddy = from
			mod, version, _ := strings.Cut(to, "@")
			caddys[mod] = version
		}
	}
	list, err := exec.Command("go", "list", "-m", "all").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(list), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		mod, mine := fields[0], fields[1]
		if theirs, ok := caddys[mod]; ok && mod == "github.com/prometheus/client_golang" && newer(mine, theirs) {
			t.Errorf("%s %s is newer than %s requires (%s)", mod, mine, caddy, theirs)
		}
	}
	if caddys["github.com/prometheus/client_golang"] == "" {
		t.Fatal("found no client_golang requirement of Caddy's")
	}
}

// newer reports whether semantic version a is above b (vX.Y.Z only).
func newer(a, b string) bool {
	pa, pb := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < 3 && i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(strings.SplitN(pa[i], "-", 2)[0])
		y, _ := strconv.Atoi(strings.SplitN(pb[i], "-", 2)[0])
		if x != y {
			return x > y
		}
	}
	return false
}
