package browsertest

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tidwall/gjson"
)

// TestAClickFromAnAmazonAdIsAttributedWithoutJavaScript lands on the demo
// shop as an Amazon ad click does (?aref=<token>), browses to another page,
// then buys: the conversion the module sends carries the click token, with
// the landing's time, from the click_token cookie the module set. The
// shop's pages do nothing for it.
func TestAClickFromAnAmazonAdIsAttributedWithoutJavaScript(t *testing.T) {
	exe := chromium(t)
	shop, sb := loadDemo(t)
	tab := newBrowser(t, exe)
	step := func(a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(tab, a); err != nil {
			t.Fatal(err)
		}
	}
	landed := time.Now()
	step(chromedp.Navigate(fmt.Sprintf("http://127.0.0.1:%d/?utm_source=amazon&aref=AbCdEf1234", shop)))
	step(chromedp.Navigate(fmt.Sprintf("http://127.0.0.1:%d/", shop))) // browsing on, without aref
	step(chromedp.WaitVisible("#buy"))
	orderID, err := chromedp.Run(tab, chromedp.Value("#order_id"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click("#buy")); err != nil {
		t.Fatal(err)
	}

	var tokens string
	deadline := time.Now().Add(15 * time.Second)
	for tokens == "" && time.Now().Before(deadline) {
		tokens = clickTokensOf(t, sb, orderID)
		if tokens == "" {
			time.Sleep(100 * time.Millisecond) // the sandbox is another server; it cannot signal the test
		}
	}
	m := regexp.MustCompile(`^AbCdEf1234\.(\d{13})$`).FindStringSubmatch(tokens)
	if m == nil {
		t.Fatalf("the conversion of %s carries click tokens %q", orderID, tokens)
	}
	var ms int64
	fmt.Sscan(m[1], &ms)
	if at := time.UnixMilli(ms); at.Before(landed.Add(-time.Second)) || at.After(time.Now()) {
		t.Errorf("the click's time %v is not the landing's (%v)", at, landed)
	}
	t.Logf("events with a click token: 1 of 1 (order %s, arefMeasurementTokens %s)", orderID, tokens)
}

// clickTokensOf reads the arefMeasurementTokens of the order's event from
// the sandbox ("" while it has not arrived).
func clickTokensOf(t *testing.T, sb int, orderID string) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/sandbox/events", sb))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, e := range gjson.GetBytes(raw, "events").Array() {
		if e.Get("eventId").String() == orderID {
			return e.Get("event.arefMeasurementTokens").String()
		}
	}
	return ""
}
