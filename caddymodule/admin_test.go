package caddymodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/forward"
)

func adminGet(t *testing.T, method, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, fmt.Sprintf("http://localhost:%d%s", adminPort, path), nil)
	resp, err := adminClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

func TestAdminAPIShowsDestinationsDeadLetterAndReplays(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	loadCaddy(t, shopConfig(t, site, bare, sb, up.URL), "caddyfile")
	account := fmt.Sprintf("ACCT-%d", site)
	post := func(body string) {
		doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(body), false,
			map[string]string{"Content-Type": "application/json"}))
	}
	post(checkoutBody)
	old := time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	post(strings.Replace(checkoutBody, `"total"`, `"created_at":"`+old+`","total"`, 1)) // deduped: same order ID
	post(strings.Replace(strings.Replace(checkoutBody, "ORD-42", "ORD-OLD", 1), `"total"`, `"created_at":"`+old+`","total"`, 1))
	awaitReceived(t, sandboxServer(t, account), 1)
	d := findDestination(t, account)
	for st := d.forwarder.Stats(); st.Rejected < 1 || st.Sent < 1; st = d.forwarder.Stats() {
		time.Sleep(5 * time.Millisecond) // the sender sends one and dead-letters the old one
	}

	var status []DestinationStatus
	adminGet(t, "GET", "/amazon_capi/", &status)
	var mine *DestinationStatus
	for i := range status {
		if strings.HasPrefix(status[i].Destination, account+"@") {
			mine = &status[i]
		}
	}
	if mine == nil || mine.Matched != 3 || mine.Queued != 2 || mine.Deduped != 1 || mine.Forwarder.Sent != 1 ||
		mine.Forwarder.Rejected != 1 || mine.TokenExpiry.IsZero() || mine.Forwarder.LastSuccess.IsZero() {
		t.Fatalf("status %+v %+v", mine, mine.Forwarder)
	}

	var letters map[string][]struct {
		Reason string `json:"reason"`
		Event  struct {
			EventID   string `json:"eventId"`
			MatchKeys []struct {
				Values []string `json:"values"`
			} `json:"matchKeys"`
		} `json:"event"`
	}
	adminGet(t, "GET", "/amazon_capi/dead_letter", &letters)
	got := letters[mine.Destination]
	if len(got) != 1 || got[0].Event.EventID != "ORD-OLD" || !strings.Contains(got[0].Reason, "older than") ||
		strings.Contains(got[0].Event.MatchKeys[0].Values[0], "@") {
		t.Errorf("dead letter %+v", got)
	}

	var replayed struct {
		Replayed map[string]int `json:"replayed"`
	}
	adminGet(t, "POST", "/amazon_capi/replay", &replayed)
	if replayed.Replayed[mine.Destination] != 1 {
		t.Errorf("replay %+v", replayed)
	}

	// The admin routes are not on the site.
	onSite := doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/amazon_capi/", site), nil, false, nil))
	if strings.Contains(onSite.Body, "forwarder") {
		t.Errorf("the site serves the admin API: %s", onSite.Body)
	}
}

func TestAdminRoutesSpeakOneJSONStyleAndRefuseTheWrongMethod(t *testing.T) {
	loadCaddy(t, fmt.Sprintf("{\n\tadmin localhost:%d\n}\nhttp://127.0.0.1:%d {\n\trespond \"ok\"\n}\n", adminPort, freePort()), "caddyfile")
	for path, wrong := range map[string]string{"/amazon_capi/": "POST", "/amazon_capi/dead_letter": "DELETE", "/amazon_capi/replay": "GET"} {
		req, _ := http.NewRequest(wrong, fmt.Sprintf("http://localhost:%d%s", adminPort, path), nil)
		resp, err := adminClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
			t.Errorf("%s %s: %d, Allow %q; want 405 with Allow", wrong, path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	// No destination: empty lists, not null.
	for _, path := range []string{"/amazon_capi/", "/amazon_capi/dead_letter"} {
		var raw json.RawMessage
		adminGet(t, "GET", path, &raw)
		if s := strings.TrimSpace(string(raw)); s != "[]" && s != "{}" {
			t.Errorf("%s with no destination: %s", path, s)
		}
	}
	// Field names are snake_case, and absent times are left out.
	b, _ := json.Marshal(DestinationStatus{Forwarder: forwarderStatus(forward.Stats{LastError: "HTTP 403 FORBIDDEN no access"})})
	for _, bad := range []string{`"Spooled"`, `"LastError"`, `"token_expiry"`, `"last_success"`, `"oldest"`} {
		if strings.Contains(string(b), bad) {
			t.Errorf("status JSON has %s: %s", bad, b)
		}
	}
	if !strings.Contains(string(b), `"last_error":"HTTP 403 FORBIDDEN no access"`) || !strings.Contains(string(b), `"spooled":0`) ||
		!strings.Contains(string(b), `"spool_sync_failures":0`) {
		t.Errorf("status JSON %s", b)
	}
}

// TestTheStatusPageShowsAFailedSpoolFsync: a failed fsync loses nothing
// the process keeps, so nothing else on the page would move; it is shown
// in red beside the last error.
func TestTheStatusPageShowsAFailedSpoolFsync(t *testing.T) {
	render := func(st forward.Stats) string {
		var page strings.Builder
		data := map[string]any{"Destinations": []statusDestination{{Status: DestinationStatus{Destination: "A@h", Forwarder: forwarderStatus(st)}}}}
		if err := statusPage.Execute(&page, data); err != nil {
			t.Fatal(err)
		}
		return page.String()
	}
	if page := render(forward.Stats{}); strings.Contains(page, "fsync") {
		t.Errorf("a healthy spool's page mentions fsync:\n%s", page)
	}
	if page := render(forward.Stats{SyncFailures: 2}); !strings.Contains(page, "spool fsync failed 2×") {
		t.Errorf("the page does not show 2 failed fsyncs:\n%s", page)
	}
}

// renderStatus renders the status page for one destination with the
// forwarder's stats st.
func renderStatus(t *testing.T, status DestinationStatus, st forward.Stats) string {
	t.Helper()
	var page strings.Builder
	status.Forwarder = forwarderStatus(st)
	data := map[string]any{"Destinations": []statusDestination{{Status: status}}}
	if err := statusPage.Execute(&page, data); err != nil {
		t.Fatal(err)
	}
	return page.String()
}

// TestTheStatusPageSaysWhenTheLastErrorAndSuccessWere: the last error
// shows when it happened, and is marked past (grey, not red) once Amazon
// has taken a batch since; the last success is shown too.
func TestTheStatusPageSaysWhenTheLastErrorAndSuccessWere(t *testing.T) {
	now := time.Now()
	current := renderStatus(t, DestinationStatus{Destination: "A@h"}, forward.Stats{LastError: "HTTP 503", LastErrorAt: now.Add(-time.Minute), LastSuccess: now.Add(-time.Hour)})
	if !strings.Contains(current, `class="current"`) || strings.Contains(current, `class="past"`) || !strings.Contains(current, now.Add(-time.Minute).UTC().Format(time.RFC3339)) ||
		!strings.Contains(current, "last success: "+now.Add(-time.Hour).UTC().Format(time.RFC3339)) {
		t.Errorf("an error after the last success is not shown as current, with both times:\n%s", current)
	}
	past := renderStatus(t, DestinationStatus{Destination: "A@h"}, forward.Stats{LastError: "HTTP 503", LastErrorAt: now.Add(-time.Hour), LastSuccess: now.Add(-time.Minute)})
	if !strings.Contains(past, `class="past"`) || strings.Contains(past, `class="current"`) || !strings.Contains(past, "past: Amazon took a batch since") {
		t.Errorf("an error before the last success is not marked past:\n%s", past)
	}
	if never := renderStatus(t, DestinationStatus{Destination: "A@h"}, forward.Stats{}); !strings.Contains(never, "last success: none yet") {
		t.Errorf("no success yet is not said:\n%s", never)
	}
	b, _ := json.Marshal(forwarderStatus(forward.Stats{LastError: "HTTP 503", LastErrorAt: now.Add(-time.Hour), LastSuccess: now}))
	if !strings.Contains(string(b), `"last_error_past":true`) {
		t.Errorf("the admin JSON does not mark the error past: %s", b)
	}
}
