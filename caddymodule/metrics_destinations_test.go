package caddymodule

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scrapeOK reads Caddy's whole /metrics, as Prometheus would, and fails the
// test unless it answers 200 with Caddy's own metrics in it: one collector
// of this module that sends the same series twice makes the registry's
// Gather fail, and Caddy then answers 500 and serves nothing at all.
func scrapeOK(t *testing.T, layout string) string {
	t.Helper()
	resp, err := adminClient.Get(fmt.Sprintf("http://localhost:%d/metrics", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	text := string(raw)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: /metrics answered %d:\n%.2000s", layout, resp.StatusCode, text)
	}
	for _, own := range []string{"caddy_config_last_reload_successful ", "go_goroutines "} {
		if !strings.Contains(text, "\n"+own) {
			t.Fatalf("%s: Caddy's own metric %s is missing from /metrics", layout, own)
		}
	}
	return text
}

// destinationLabels are the values of the destination label of one metric.
func destinationLabels(text, metric string) []string {
	var out []string
	re := regexp.MustCompile(`(?m)^` + metric + `\{(?:[^}]*,)?destination="([^"]*)"`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// Every layout of destinations that a config may hold, and every reload
// from one to the next (which adds some blocks and removes others), leaves
// Caddy's /metrics answering: a dry run beside the live destination of the
// same account and endpoint, and v1 beside v2 of one account, each have a
// destination label of their own, used alike by the counters and by the
// gauges read at scrape time; two sites sharing a destination, or two
// destinations that differ only by their spool, report it once.
func TestMetricsAnswerWhateverDestinationsTheConfigHolds(t *testing.T) {
	site1, site2, sb := freePort(), freePort(), freePort()
	spoolA, spoolB := t.TempDir(), t.TempDir()
	host := fmt.Sprintf("127.0.0.1:%d", sb)
	acctA, acctB := fmt.Sprintf("LBL-A-%d", site1), fmt.Sprintf("LBL-B-%d", site1)
	a, b := acctA+"@"+host, acctB+"@"+host
	checkout := func() *eventBlock { return purchase().match("path /checkout").dedupeID("query.order") }
	live := func(account, spool string) *capiBlock {
		return amazonCAPI().sandboxAt(sb).account(account).spool(spool).flushInterval(10 * time.Millisecond).event(checkout())
	}
	config := func(first, second *capiBlock) string {
		return fixture().
			site(site1, first, respondOK).
			site(site2, second, respondOK).
			sandboxSite(sb, "", "keep 100000"). // any account
			String()
	}
	type layout struct {
		name   string
		config string
		labels []string // the destination labels, sorted
		live   []string // those with a forwarder (queue depth, spool bytes, …)
	}
	layouts := []layout{
		{"two sites sharing a destination", config(live(acctA, spoolA), live(acctA, spoolA)), []string{a}, []string{a}},
		{"dry_run beside live", config(live(acctA, spoolA),
			amazonCAPI().sandboxAt(sb).account(acctA).dryRun().event(checkout())), []string{a, a + "/dry_run"}, []string{a}},
		{"dry_run beside live, one spool", config(live(acctA, spoolA),
			amazonCAPI().sandboxAt(sb).account(acctA).spool(spoolA).dryRun().event(checkout())), []string{a, a + "/dry_run"}, []string{a}},
		{"v1 beside v2 of one account", config(live(acctA, spoolA), live(acctA, spoolA).api("v1")), []string{a, a + "/v1"}, []string{a, a + "/v1"}},
		{"two accounts", config(live(acctA, spoolA), live(acctB, spoolA)), []string{a, b}, []string{a, b}},
		{"one account, two spools", config(live(acctA, spoolA), live(acctA, spoolB)), []string{a}, []string{a}},
	}
	order := 0
	// mismatches sends a request to each site (every destination builds an
	// event: its quality and reconciliation series exist), scrapes the
	// whole /metrics and says what does not hold.
	mismatches := func(l layout) []string {
		t.Helper()
		for _, site := range []int{site1, site2} {
			order++
			if status := getAfterReload(t, fmt.Sprintf("http://127.0.0.1:%d/checkout?order=LBL-%d", site, order)); status != 200 {
				t.Fatalf("%s: the site answered %d", l.name, status)
			}
		}
		text := scrapeOK(t, l.name)
		var out []string
		// The counters keep the series of destinations a reload removed
		// (they are built once per process); the gauges read at scrape
		// time name the live destinations only, with the counters' labels.
		for _, want := range l.labels {
			if got := destinationLabels(text, "caddy_amazon_capi_events_total"); !slices.Contains(got, want) {
				out = append(out, fmt.Sprintf("caddy_amazon_capi_events_total has destinations %q, want %q among them", got, want))
			}
		}
		for _, metric := range []string{"caddy_amazon_capi_match_quality_events_total", "caddy_amazon_capi_reconciliation_events"} {
			if got := destinationLabels(text, metric); !slices.Equal(got, l.labels) {
				out = append(out, fmt.Sprintf("%s has destinations %q, want %q", metric, got, l.labels))
			}
		}
		for _, metric := range []string{"caddy_amazon_capi_queue_depth", "caddy_amazon_capi_spool_bytes"} {
			if got := destinationLabels(text, metric); !slices.Equal(got, l.live) {
				out = append(out, fmt.Sprintf("%s has destinations %q, want %q", metric, got, l.live))
			}
		}
		return out
	}
	// check waits until the layout's series show: just after a reload, the
	// old config's server may still answer a request (Caddy's reload), and
	// its destination then builds the event.
	check := func(i int) {
		t.Helper()
		l := layouts[i%len(layouts)]
		deadline := time.Now().Add(10 * time.Second)
		for {
			bad := mismatches(l)
			if len(bad) == 0 {
				return
			}
			if time.Now().After(deadline) {
				for _, b := range bad {
					t.Errorf("%s: %s", l.name, b)
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	loadCaddy(t, layouts[0].config, "caddyfile")
	check(0)
	for i := 1; i <= len(layouts); i++ { // each layout again after a reload from the one before
		postConfig(t, layouts[i%len(layouts)].config)
		check(i)
	}
}

// getAfterReload GETs url and returns the status. A connection the old
// config's server accepted just before it shut down is closed unanswered
// (Caddy's reload, not this module): a GET is then sent again, at most
// twice, as a browser would.
func getAfterReload(t *testing.T, url string) int {
	t.Helper()
	for try := 0; ; try++ {
		resp, err := http.DefaultTransport.RoundTrip(newRequest(t, "GET", url, nil, false, nil))
		if err == nil {
			resp.Body.Close()
			return resp.StatusCode
		}
		// The old server closes it unanswered (EOF) or resets it
		// (ECONNRESET, seen once on a loaded machine).
		if try == 2 || !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
}

// sharedLabel sends the series of two destinations that share a label,
// and one of another, through a seriesSum, as destinationCollector does.
type sharedLabel struct{}

func (sharedLabel) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- oldestAgeDesc
	ch <- syncFailDesc
	ch <- qualityDesc
}

func (sharedLabel) Collect(ch chan<- prometheus.Metric) {
	var s seriesSum
	for _, m := range []prometheus.Metric{
		prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, 2, "A@h"),
		prometheus.MustNewConstMetric(oldestAgeDesc, prometheus.GaugeValue, 4, "A@h"),
		prometheus.MustNewConstMetric(syncFailDesc, prometheus.CounterValue, 1, "A@h"),
		prometheus.MustNewConstMetric(qualityDesc, prometheus.CounterValue, 10, "A@h", "purchase", "events"),
		prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, 7, "B@h"),
		prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, 3, "A@h"),
		prometheus.MustNewConstMetric(oldestAgeDesc, prometheus.GaugeValue, 9, "A@h"),
		prometheus.MustNewConstMetric(syncFailDesc, prometheus.CounterValue, 2, "A@h"),
		prometheus.MustNewConstMetric(qualityDesc, prometheus.CounterValue, 5, "A@h", "purchase", "events"),
		prometheus.MustNewConstMetric(qualityDesc, prometheus.CounterValue, 1, "A@h", "signup", "events"),
	} {
		s.add(m)
	}
	s.send(ch)
}

// Destinations that share a label are reported once, in a registry as
// strict as Caddy's: their counts and depths add up, and the oldest
// event's age is the larger one.
func TestSeriesOfDestinationsSharingALabelAreGatheredOnce(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(sharedLabel{})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetValue()
			}
			if _, twice := got[key]; twice {
				t.Errorf("%s gathered twice", key)
			}
			got[key] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"amazon_capi_queue_depth A@h": 5, "amazon_capi_queue_depth B@h": 7,
		"amazon_capi_oldest_event_age_seconds A@h":                   9,
		"amazon_capi_spool_sync_failures_total A@h":                  3,
		"amazon_capi_match_quality_events_total A@h purchase events": 15,
		"amazon_capi_match_quality_events_total A@h signup events":   1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("gathered %v, want %v", got, want)
	}
}
