package browsertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// sandboxEvent is the part of a /sandbox/events entry this test reads.
type sandboxEvent struct {
	Name     string `json:"name"`
	EventID  string `json:"eventId"`
	Accepted bool   `json:"accepted"`
}

// sandboxEvents lists what the sandbox on port sb holds (GET /sandbox/events).
func sandboxEvents(t *testing.T, sb int) []sandboxEvent {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/sandbox/events", sb))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Events []sandboxEvent `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /sandbox/events: %d %v", resp.StatusCode, err)
	}
	return list.Events
}

// TestTheBrowserTagAndTheModuleReportAnOrderWithTheSameEventID buys in the
// demo shop in headless Chromium. The thank-you page fires the stand-in
// Amazon Ad Tag (demo/shop/amazon-tag-stub.js, called by
// demo/shop/thank-you.js), and amazon_capi sends the order to the sandbox.
// The tag's clientDedupeId, read from the browser's network events, must
// equal the eventId the sandbox received, so Amazon counts the order once;
// and the sandbox must hold exactly one event for it. A page that makes up
// its own ID, the one way to break the rule, gives a different ID.
func TestTheBrowserTagAndTheModuleReportAnOrderWithTheSameEventID(t *testing.T) {
	exe := chromium(t)
	shop, sb := loadDemo(t)
	tab := newBrowser(t, exe)

	// What the tag sends: every request the page makes to the stand-in's
	// endpoint, as the browser reports it.
	tagCalls := make(chan *url.URL, 16)
	if err := chromedp.Listen(tab, func(ev any) {
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok {
			if u, err := url.Parse(ev.Request.URL); err == nil && u.Path == "/amazon-tag-stub" {
				select {
				case tagCalls <- u:
				default:
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	nextTagCall := func() *url.URL {
		t.Helper()
		select {
		case u := <-tagCalls:
			return u
		case <-time.After(10 * time.Second):
			t.Fatal("the page's Amazon tag sent nothing")
			return nil
		}
	}

	step := func(a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, a); err != nil {
			t.Fatal(err)
		}
	}
	step(chromedp.Navigate(fmt.Sprintf("http://127.0.0.1:%d/", shop)))
	step(chromedp.WaitVisible("#buy"))
	orderID, err := chromedp.Run(tab, chromedp.Value("#order_id"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := chromedp.RunResponse(tab, chromedp.Click("#buy"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("submitting the checkout form: %v %v", resp, err)
	}

	// The browser's side: the thank-you page's tag call.
	tag := nextTagCall()
	tagID := tag.Query().Get("clientDedupeId")
	if tagID == "" {
		t.Fatalf("the tag sent no clientDedupeId: %s", tag)
	}

	// The server's side: the sandbox, polled until the order arrives (the
	// demo flushes every second), then once more after two more flushes so
	// that a second event for the order would have arrived too.
	var events []sandboxEvent
	for deadline := time.Now().Add(15 * time.Second); len(events) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the order never reached the sandbox")
		}
		events = sandboxEvents(t, sb)
	}
	time.Sleep(2500 * time.Millisecond)
	events = sandboxEvents(t, sb)
	if len(events) != 1 {
		t.Fatalf("the sandbox holds %d events for one order, want 1: %+v", len(events), events)
	}
	server := events[0]
	t.Logf("order %s: the tag's clientDedupeId %q, the server event's eventId %q", orderID, tagID, server.EventID)
	if server.EventID == "" || server.EventID != tagID {
		t.Errorf("the tag's clientDedupeId %q and the server event's eventId %q differ: Amazon would count the order twice", tagID, server.EventID)
	}
	if server.EventID != orderID || !server.Accepted || server.Name != "demo_purchase" {
		t.Errorf("the server event: %+v, want the accepted demo_purchase of order %q", server, orderID)
	}

	// The tag fired once, and the handed-out ID was used up.
	select {
	case u := <-tagCalls:
		t.Errorf("the tag fired again: %s", u)
	default:
	}
	cookies, err := chromedp.Run(tab, chromedp.Evaluate[string]("document.cookie"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cookies, "amzn_eid=") {
		t.Errorf("the page left the event ID cookie behind: %q", cookies)
	}

	// Breaking the rule: the same page, but the tag is given an ID made up
	// in the page the way the shop makes order IDs. It is sent as given, and
	// it is not the server's ID, so Amazon would keep both conversions.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](`amzn("trackEvent", "Off-AmazonPurchases", {clientDedupeId: "ORD-" + Date.now()})`)); err != nil {
		t.Fatal(err)
	}
	madeUp := nextTagCall().Query().Get("clientDedupeId")
	if !strings.HasPrefix(madeUp, "ORD-") || madeUp == server.EventID {
		t.Errorf("a made-up ID %q, the server's %q: they should differ", madeUp, server.EventID)
	}
	t.Logf("a page that makes up its ID: clientDedupeId %q, eventId %q: counted twice", madeUp, server.EventID)
}
