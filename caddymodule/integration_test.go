package caddymodule

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// shopConfig is a site with the module in front of an upstream, the same
// site without it, and the sandbox as Amazon, with more sandbox options.
func shopConfig(t *testing.T, withModule, without, sandboxPort int, upstream string, sandboxOptions ...any) string {
	account := fmt.Sprintf("ACCT-%d", withModule)
	credentials := []any{"client_id test-client", "client_secret test-secret", "refresh_token test-refresh"}
	module := amazonCAPI().sandboxAt(sandboxPort).account(account).
		credentials("test-client", "test-secret", "test-refresh").
		spool(t.TempDir()).set("max_body", "32KiB").flushInterval(20*time.Millisecond).
		event(
			purchase().match("method POST", "path /checkout").
				dedupeID("body.order.id").set("timestamp", "body.order.created_at").
				value("body.order.total").currency("body.order.currency").set("units_sold", "body.items.#.qty|@sum").
				key("EMAIL", "body.customer.email").key("FIP", "request.remote_ip"),
			signup().match("method POST", "path /signup").country("form.country").key("EMAIL", "form.email"))
	return fixture().
		site(withModule, module, "reverse_proxy "+upstream).
		site(without, "reverse_proxy "+upstream).
		sandboxSite(sandboxPort, account, append(credentials, sandboxOptions...)...).
		String()
}

// sentEvent is what the tests read of an event as Amazon received it.
type sentEvent struct {
	MatchKeys []struct {
		Type   string   `json:"type"`
		Values []string `json:"values"`
	} `json:"matchKeys"`
	Value     float64 `json:"value"`
	Currency  string  `json:"currencyCode"`
	UnitsSold int     `json:"unitsSold"`
}

func decodeSent(t *testing.T, event json.RawMessage) sentEvent {
	t.Helper()
	var wire sentEvent
	if err := json.Unmarshal(event, &wire); err != nil {
		t.Fatal(err)
	}
	return wire
}

const checkoutBody = `{"order":{"id":"ORD-42","total":"129.95","currency":"usd"},"customer":{"email":" Jane.Doe@Example.com "},"items":[{"qty":2},{"qty":1}]}`

func TestCheckoutBecomesAConversionInTheSandbox(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	loadCaddy(t, shopConfig(t, site, bare, sb, up.URL), "caddyfile")

	got := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(checkoutBody), false,
		map[string]string{"Content-Type": "application/json"}))
	if got.Status != 200 {
		t.Fatalf("status %d", got.Status)
	}
	events := awaitReceived(t, sandboxServer(t, fmt.Sprintf("ACCT-%d", site)), 1)
	e := events[0]
	if !e.Accepted || e.EventID != "ORD-42" || e.ConversionType != "OFF_AMAZON_PURCHASES" || e.Name != "purchase" {
		t.Fatalf("sandbox got %+v", e)
	}
	wire := decodeSent(t, e.Event)
	sum := sha256.Sum256([]byte("jane.doe@example.com"))
	if wire.MatchKeys[0].Values[0] != hex.EncodeToString(sum[:]) || wire.MatchKeys[1].Values[0] != "127.0.0.1" {
		t.Errorf("match keys %+v", wire.MatchKeys)
	}
	if wire.Value != 129.95 || wire.Currency != "USD" || wire.UnitsSold != 3 {
		t.Errorf("value %v %s units %d", wire.Value, wire.Currency, wire.UnitsSold)
	}
	if strings.Contains(string(e.Event), "Jane") {
		t.Errorf("raw email reached Amazon: %s", e.Event)
	}

	// A form post maps too, and a request no event matches sends nothing.
	form := url.Values{"email": {"sam@example.org"}, "country": {"de"}}.Encode()
	doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/signup", site), []byte(form), false,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}))
	doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/other", site), []byte(checkoutBody), false, nil))
	events = awaitReceived(t, sandboxServer(t, fmt.Sprintf("ACCT-%d", site)), 2)
	if events[0].ConversionType != "SIGN_UP" || !events[0].Accepted {
		t.Errorf("newest event %+v", events[0])
	}
	if st := sandboxServer(t, fmt.Sprintf("ACCT-%d", site)).Stats(); st.TokenGrants != 1 {
		t.Errorf("token grants %d, want 1 (the token is cached)", st.TokenGrants)
	}
}

func TestTheSiteSeesAndAnswersExactlyAsWithoutTheModule(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	loadCaddy(t, shopConfig(t, site, bare, sb, up.URL), "caddyfile")

	big := bytes.Repeat([]byte("0123456789abcdef"), 10<<20/16) // 10 MiB
	maxBody := 32 << 10
	prefix, suffix := `{"order":{"id":"X"},"customer":{"email":"a@b.example"},"pad":"`, `"}`
	exactly := []byte(prefix + strings.Repeat("x", maxBody-len(prefix)-len(suffix)) + suffix)
	if len(exactly) != maxBody {
		t.Fatalf("exactly-max body is %d bytes", len(exactly))
	}
	cases := []struct {
		name    string
		body    []byte
		chunked bool
		ctype   string
	}{
		{"empty", nil, false, ""},
		{"small JSON", []byte(checkoutBody), false, "application/json"},
		{"exactly max_body", exactly, false, "application/json"},
		{"max_body+1", append(append([]byte{}, exactly[:len(exactly)-2]...), []byte(`x"}`)...), false, "application/json"},
		{"10 MiB", big, false, "application/octet-stream"},
		{"chunked, no Content-Length", []byte(checkoutBody), true, "application/json"},
		{"chunked 10 MiB", big, true, "application/json"},
		{"non-JSON", []byte("hello, world\x00\xff"), false, "text/plain"},
		{"invalid JSON", []byte(`{"order": {"id": "ORD-1", `), false, "application/json"},
		{"form-encoded", []byte("email=a%40b.example&country=US&x=%FF"), false, "application/x-www-form-urlencoded"},
		{"100 MiB streamed", nil, true, "application/json"}, // body made below, streamed chunked
		{"JSON nested 10,000 deep", []byte(strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)), false, "application/json"},
		{"JSON arrays nested 10,000 deep", []byte(`{"order":{"id":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`), false, "application/json"},
		{"non-UTF-8", []byte("{\"order\":{\"id\":\"\xff\xfe\xc0\"},\"customer\":{\"email\":\"\xe9@x.example\"}}"), false, "application/json"},
		{"gzip-encoded", gzipped(checkoutBody), false, "application/json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := map[string]string{"X-Custom": "kept", "Cookie": "a=1; b=2"}
			if c.ctype != "" {
				hdr["Content-Type"] = c.ctype
			}
			switch c.name {
			case "100 MiB streamed":
				c.body = bytes.Repeat([]byte(`{"order":{"id":"big"}}`), 100<<20/22+1)[:100<<20]
			case "gzip-encoded":
				hdr["Content-Encoding"] = "gzip"
			}
			withMod := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout?x=1", site), c.body, c.chunked, hdr))
			viaModule := up.last()
			without := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout?x=1", bare), c.body, c.chunked, hdr))
			direct := up.last()
			// The Host differs (two sites on two ports); all else must not.
			viaModule.Header["X-Forwarded-Host"], direct.Header["X-Forwarded-Host"] = nil, nil
			a, _ := json.Marshal(viaModule)
			b, _ := json.Marshal(direct)
			if string(a) != string(b) {
				t.Errorf("the site saw a different request with the module:\n with: %s\n  without: %s", a, b)
			}
			sum := sha256.Sum256(c.body)
			if viaModule.BodySHA256 != hex.EncodeToString(sum[:]) || viaModule.BodyLen != len(c.body) {
				t.Errorf("the site got %d bytes, sent %d", viaModule.BodyLen, len(c.body))
			}
			if withMod.Status != without.Status || strings.Join(withMod.Header, "\n") != strings.Join(without.Header, "\n") {
				t.Errorf("client saw %d %v with the module, %d %v without", withMod.Status, withMod.Header, without.Status, without.Header)
			}
			var echoedWith, echoedWithout received
			_ = json.Unmarshal([]byte(withMod.Body), &echoedWith)
			_ = json.Unmarshal([]byte(without.Body), &echoedWithout)
			if echoedWith.BodySHA256 != echoedWithout.BodySHA256 || len(withMod.Body) != len(without.Body) {
				t.Errorf("client got a different body with the module")
			}
		})
	}
	if p := findDestination(t, fmt.Sprintf("ACCT-%d", site)).counters.panics.Load(); p != 0 {
		t.Errorf("%d panics while mapping", p)
	}
}

func TestFiveHundredHeadersPassThrough(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	loadCaddy(t, shopConfig(t, site, bare, sb, up.URL), "caddyfile")
	hdr := map[string]string{"Content-Type": "application/json"}
	for i := 0; i < 500; i++ {
		hdr[fmt.Sprintf("X-H%d", i)] = strings.Repeat("v", i%50)
	}
	with := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(checkoutBody), false, hdr))
	viaModule := up.last()
	without := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", bare), []byte(checkoutBody), false, hdr))
	direct := up.last()
	if with.Status != 200 || with.Status != without.Status || len(viaModule.Header) != len(direct.Header) || len(viaModule.Header) < 500 {
		t.Errorf("status %d/%d, headers seen %d/%d", with.Status, without.Status, len(viaModule.Header), len(direct.Header))
	}
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestMatchedRequestsNeverWaitForAmazon(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	// Amazon answers late enough that 20 requests in a row finish before
	// its first answer even on a loaded machine, and that a request which
	// waited for it could not pass for a slow one.
	const amazonDelay = 5 * time.Second
	loadCaddy(t, shopConfig(t, site, bare, sb, up.URL, "delay "+amazonDelay.String()), "caddyfile")
	sandbox := sandboxServer(t, fmt.Sprintf("ACCT-%d", site))

	timeOf := func(port, n int) time.Duration {
		var worst time.Duration
		for i := 0; i < n; i++ {
			body := strings.Replace(checkoutBody, "ORD-42", fmt.Sprintf("ORD-%d-%d", port, i), 1)
			start := time.Now()
			got := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", port), []byte(body), false,
				map[string]string{"Content-Type": "application/json"}))
			if got.Status != 200 {
				t.Fatalf("status %d", got.Status)
			}
			worst = max(worst, time.Since(start))
		}
		return worst
	}
	const n = 20
	worstWith := timeOf(site, n)
	// Every matched request has been answered, while Amazon has not yet
	// answered a single batch: no request waited for it.
	if st := sandbox.Stats(); st.Events != 0 {
		t.Fatalf("the sandbox had already answered for %d events; the test cannot tell whether requests waited", st.Events)
	}
	worstWithout := timeOf(bare, n)
	t.Logf("slowest of %d matched requests: %v with the module, %v without; Amazon answers after %v", n, worstWith, worstWithout, amazonDelay)
	if worstWith >= amazonDelay {
		t.Errorf("a matched request took %v with Amazon answering after %v: it waited for Amazon", worstWith, amazonDelay)
	}
	awaitReceived(t, sandbox, n)
}

func TestCaddyfileAdaptsToJSONThatWorksOnItsOwn(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	adapted, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(shopConfig(t, site, bare, sb, up.URL)), nil)
	if err != nil {
		t.Fatalf("adapt: %v", err)
	}
	for _, w := range warnings {
		if !strings.Contains(w.Message, "not formatted") {
			t.Errorf("adapt warning: %v", w)
		}
	}
	for _, want := range []string{`"handler":"amazon_capi"`, `"name":"purchase"`, `"match_keys":[{"type":"EMAIL","value":"body.customer.email"}`, `"handler":"amazon_capi_sandbox"`} {
		if !strings.Contains(string(adapted), want) {
			t.Errorf("adapted JSON lacks %s:\n%s", want, adapted)
		}
	}
	loadCaddy(t, string(adapted), "json")
	doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", site), []byte(checkoutBody), false,
		map[string]string{"Content-Type": "application/json"}))
	if e := awaitReceived(t, sandboxServer(t, fmt.Sprintf("ACCT-%d", site)), 1)[0]; !e.Accepted || e.EventID != "ORD-42" {
		t.Errorf("got %+v", e)
	}
}

func TestInvalidRequestsSendNothingAndAreCounted(t *testing.T) {
	site, bare, sb := freePort(), freePort(), freePort()
	up := newEchoUpstream(t)
	loadCaddy(t, shopConfig(t, site, bare, sb, up.URL), "caddyfile")
	post := func(body string) {
		doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/signup", site), []byte(body), false,
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}))
	}
	post("email=a%40b.example&country=Narnia") // invalid country
	post("country=US")                         // no match key
	post("email=ok%40b.example&country=US")    // valid: the marker that the earlier two were processed
	sbx := sandboxServer(t, fmt.Sprintf("ACCT-%d", site))
	events := awaitReceived(t, sbx, 1)
	if len(events) != 1 {
		t.Fatalf("sandbox got %d events, want only the valid one", len(events))
	}
	d := findDestination(t, fmt.Sprintf("ACCT-%d", site))
	if got := d.confirmations.totals().invalid; got != 2 {
		t.Errorf("invalid count %d, want 2", got)
	}
	if got := d.confirmations.totals().matched; got != 3 {
		t.Errorf("matched count %d, want 3", got)
	}
}

// findDestination finds the live destination of an account.
func findDestination(t *testing.T, account string) *liveDestination {
	t.Helper()
	var found *liveDestination
	destinations.Range(func(_, value any) bool {
		if d := value.(*liveDestination); d.settings.accountID == account {
			found = d
			return false
		}
		return true
	})
	if found == nil {
		t.Fatalf("no destination for %s", account)
	}
	return found
}
