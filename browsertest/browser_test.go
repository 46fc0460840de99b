// Package browsertest holds the tests that drive a real browser (headless
// Chromium through chromedp). It is a module of its own so that the plugin
// adds no browser driver to a user's Caddy build; .ci/run runs it.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/chromedp/chromedp"

	"github.com/shopsignal/caddy-amazon-capi/internal/testnet"
	_ "github.com/shopsignal/caddy-amazon-capi/sandbox/caddysandbox" // the modules under test, with the sandbox
)

func freePort(t *testing.T) int {
	port, err := testnet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// loadDemo loads Caddyfile.example as the README runs it, on free ports,
// into an in-process Caddy, and returns the shop's and the sandbox's ports.
func loadDemo(t *testing.T) (shop, sb int) {
	t.Helper()
	raw, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	admin := freePort(t)
	shop, sb = freePort(t), freePort(t)
	root, _ := filepath.Abs("../demo/shop")
	cfg := strings.NewReplacer(
		"admin localhost:2{$SHOP_PORT:8080}", fmt.Sprintf("admin localhost:%d\n\tpersist_config off", admin),
		"localhost:{$SHOP_PORT:8080}", fmt.Sprintf("127.0.0.1:%d", shop),
		"localhost:{$SANDBOX_PORT:8081}", fmt.Sprintf("127.0.0.1:%d", sb),
		"./demo/spool", t.TempDir(),
		"./demo/shop", root,
	).Replace(string(raw))
	tester := caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{
		AdminPort: admin, Certificates: []string{}, LoadRequestTimeout: 20 * time.Second, TestRequestTimeout: 30 * time.Second,
	})
	tester.InitServer(cfg, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	return shop, sb
}

// chromium finds Debian's Chromium, which .ci/run installs.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium: .ci/run should have installed Debian's chromium")
	}
	t.Skip("no Chromium on this machine (apt-get install chromium); CI installs it")
	return ""
}

// newBrowser starts headless Chromium (exe) for the test and returns the
// context of its first tab, which ends after 60 seconds or with the test.
func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	page, cancelPage := chromedp.NewContext(alloc)
	t.Cleanup(cancelPage)
	page, cancelTimeout := context.WithTimeout(page, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return page
}

// TestTheSandboxPageShowsACheckoutFromTheShopInABrowser drives headless
// Chromium: it opens the sandbox page, submits the demo shop's checkout
// form in another tab, and sees the conversion appear on the sandbox page,
// which refreshes by itself.
func TestTheSandboxPageShowsACheckoutFromTheShopInABrowser(t *testing.T) {
	exe := chromium(t)
	shop, sb := loadDemo(t)
	page := newBrowser(t, exe)

	sandboxURL := fmt.Sprintf("http://127.0.0.1:%d/", sb)
	if _, err := chromedp.Run(page, chromedp.Navigate(sandboxURL)); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(page, chromedp.Text("#events"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(before, "Nothing has arrived") {
		t.Errorf("the sandbox page before any event: %q", before)
	}

	shopTab, cancelShop := chromedp.NewContext(page)
	defer cancelShop()
	step := func(ctx context.Context, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	step(shopTab, chromedp.Navigate(fmt.Sprintf("http://127.0.0.1:%d/", shop)))
	step(shopTab, chromedp.WaitVisible("#buy"))
	orderID, err := chromedp.Run(shopTab, chromedp.Value("#order_id"))
	if err != nil {
		t.Fatal(err)
	}
	// Buy posts the form; the browser loads the shop's answer.
	resp, err := chromedp.RunResponse(shopTab, chromedp.Click("#buy"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("submitting the checkout form: %v %v", resp, err)
	}
	thanks, err := chromedp.Run(shopTab, chromedp.Text("body"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(orderID, "ORD-") || !strings.Contains(thanks, "Thank you") {
		t.Fatalf("order %q, page %q", orderID, thanks)
	}

	// The sandbox tab, untouched since, refreshes by itself until the row shows.
	row := fmt.Sprintf(`tr.event.accepted[data-event-id=%q]`, orderID)
	if _, err := chromedp.Run(page, chromedp.WaitVisible(row)); err != nil {
		t.Fatalf("the checkout never showed on the sandbox page: %v", err)
	}
	text, err := chromedp.Run(page, chromedp.Text(row))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"demo_purchase", "OFF_AMAZON_PURCHASES", orderID, "EMAIL", "PHONE", "FIP", "25.9", "USD", "accepted"} {
		if !strings.Contains(text, want) {
			t.Errorf("the row lacks %q: %q", want, text)
		}
	}
	if strings.Contains(text, "jane") || strings.Contains(text, "example.com") {
		t.Errorf("the row shows raw PII: %q", text)
	}
	if os.Getenv("SANDBOX_SCREENSHOT") != "" {
		png, _ := chromedp.Run(page, chromedp.FullScreenshot(100))
		os.WriteFile(os.Getenv("SANDBOX_SCREENSHOT"), png, 0o644)
	}
}
