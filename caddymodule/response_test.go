package caddymodule

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// shopUpstream answers like a shop backend: a checkout gets an order ID
// in the body, a failed one a 402; /stream streams two flushed chunks, the
// second only once the test has seen the first; /ws upgrades and echoes.
func shopUpstream(t *testing.T, release chan struct{}) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/checkout":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Order-State", "placed")
			if r.URL.Query().Get("fail") != "" {
				w.WriteHeader(http.StatusPaymentRequired)
				io.WriteString(w, `{"error":"card declined"}`)
				return
			}
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"order_id":"SHOP-`+r.URL.Query().Get("n")+`","total":"59.90","currency":"EUR"}`)
		case "/stream":
			io.WriteString(w, "first\n")
			http.NewResponseController(w).Flush()
			<-release
			io.WriteString(w, "second\n")
		case "/ws":
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("upstream hijack: %v", err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
			buf.Flush()
			line, _ := buf.ReadString('\n')
			buf.WriteString(line)
			buf.Flush()
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func responseConfig(site, bare, sb int, upstream, spool string) string {
	account := fmt.Sprintf("RESP-%d", site)
	module := amazonCAPI().sandboxAt(sb).account(account).spool(spool).flushInterval(10*time.Millisecond).event(
		purchase().match("path /checkout").whenResponse("status 2xx").
			dedupeID("response.body.order_id").value("response.body.total").currency("response.body.currency").
			custom("state", "response.header.X-Order-State").custom("status", "response.status", "INTEGER"),
		signup().match("path /signup").
			set("event_id_header", "X-Amazon-Event-Id").set("event_id_cookie", "amzn_eid"),
		event("watch", "PAGE_VIEW").match("path /stream /ws").whenResponse("status 2xx 101").
			value("response.body.x"))
	return fixture().
		site(site, "header /signup >X-Signup-Event {http.amazon_capi.signup.event_id}", module, "reverse_proxy "+upstream).
		site(bare, "reverse_proxy "+upstream).
		sandboxSite(sb, account).
		String()
}

func TestEventsFollowTheSitesAnswer(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	release := make(chan struct{})
	up := shopUpstream(t, release)
	loadCaddy(t, responseConfig(site, bare, sb, up.URL, t.TempDir()), "caddyfile")
	sandbox := sandboxServer(t, fmt.Sprintf("RESP-%d", site))

	declined := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout?fail=1&n=1", site), nil, false, nil))
	placed := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout?n=2", site), nil, false, nil))
	placedBare := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout?n=2", bare), nil, false, nil))
	if declined.Status != 402 || placed.Status != 201 || placed.Body != placedBare.Body || strings.Join(placed.Header, "|") != strings.Join(placedBare.Header, "|") {
		t.Fatalf("client saw %d/%d %q %v, without the module %q %v", declined.Status, placed.Status, placed.Body, placed.Header, placedBare.Body, placedBare.Header)
	}
	got := awaitReceived(t, sandbox, 1)
	e := got[0]
	if len(got) != 1 || e.EventID != "SHOP-2" || *e.Value != 59.9 || e.Currency != "EUR" || !e.Accepted {
		t.Fatalf("sandbox got %+v (the declined checkout must not count)", got)
	}
	if !strings.Contains(string(e.Event), `{"name":"state","dataType":"STRING","value":"placed"}`) ||
		!strings.Contains(string(e.Event), `{"name":"status","dataType":"INTEGER","value":"201"}`) {
		t.Errorf("custom data from the response missing: %s", e.Event)
	}
}

func TestTheEventIDReachesTheBrowserAndAmazonAlike(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := shopUpstream(t, make(chan struct{}))
	loadCaddy(t, responseConfig(site, bare, sb, up.URL, t.TempDir()), "caddyfile")
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/signup", site), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Amazon-Event-Id")
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "amzn_eid" {
			cookie = c.Value
		}
	}
	if id == "" || cookie != id || resp.Header.Get("X-Signup-Event") != id {
		t.Fatalf("header %q, cookie %q, placeholder %q: want one ID in all three", id, cookie, resp.Header.Get("X-Signup-Event"))
	}
	e := awaitReceived(t, sandboxServer(t, fmt.Sprintf("RESP-%d", site)), 1)[0]
	if e.EventID != id {
		t.Errorf("Amazon got event ID %q, the browser %q", e.EventID, id)
	}
}

func TestFlushAndHijackWorkThroughTheResponseTee(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	release := make(chan struct{})
	up := shopUpstream(t, release)
	loadCaddy(t, responseConfig(site, bare, sb, up.URL, t.TempDir()), "caddyfile")

	// A flushed chunk reaches the client while the upstream still writes.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/stream", site))
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	first, err := r.ReadString('\n')
	if err != nil || first != "first\n" {
		t.Fatalf("first chunk %q, %v", first, err)
	}
	close(release)
	rest, _ := io.ReadAll(r)
	resp.Body.Close()
	if string(rest) != "second\n" {
		t.Errorf("rest %q", rest)
	}

	// A protocol upgrade (as websockets do) hijacks through the tee.
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", site), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	status, _ := br.ReadString('\n')
	if !strings.Contains(status, "101") {
		t.Fatalf("upgrade answered %q", status)
	}
	for line, _ := br.ReadString('\n'); line != "\r\n" && line != ""; line, _ = br.ReadString('\n') {
	}
	io.WriteString(conn, "ping\n")
	echo, err := br.ReadString('\n')
	if echo != "ping\n" {
		t.Errorf("echo %q, %v", echo, err)
	}
	got := awaitReceived(t, sandboxServer(t, fmt.Sprintf("RESP-%d", site)), 1)
	if got[0].ConversionType != "PAGE_VIEW" {
		t.Errorf("got %+v", got[0])
	}
}
