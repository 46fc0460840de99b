package caddymodule

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTheDemoInCaddyfileExampleWorks runs the README's demo config, on free
// ports: the shop's page, its checkout form and the documented curl both
// end up as accepted conversions in the sandbox.
func TestTheDemoInCaddyfileExampleWorks(t *testing.T) {
	shop, _ := loadDemo(t)

	page := doRequest(t, newRequest(t, "GET", fmt.Sprintf("http://127.0.0.1:%d/", shop), nil, false, nil))
	if page.Status != 200 || !strings.Contains(page.Body, `<form id="checkout" method="post" action="/checkout">`) {
		t.Fatalf("shop page: %d %.200s", page.Status, page.Body)
	}
	form := url.Values{"order_id": {"ORD-DEMO-1"}, "product": {"Blue Mug"}, "email": {"jane.doe@example.com"},
		"phone": {"+1 206 555 0100"}, "quantity": {"2"}, "total": {"25.90"}, "currency": {"USD"}, "country": {"US"}}
	thanks := doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/checkout", shop), []byte(form.Encode()), false,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}))
	if thanks.Status != 200 || !strings.Contains(thanks.Body, "Thank you") {
		t.Fatalf("checkout: %d %s", thanks.Status, thanks.Body)
	}
	cart, err := os.ReadFile("../demo/add-to-cart.json")
	if err != nil {
		t.Fatal(err)
	}
	doRequest(t, newRequest(t, "POST", fmt.Sprintf("http://127.0.0.1:%d/api/cart", shop), cart, false,
		map[string]string{"Content-Type": "application/json"}))

	events := awaitReceived(t, sandboxServer(t, "DEMO-ADVERTISER"), 2)
	byType := map[string]bool{}
	for _, e := range events {
		if !e.Accepted {
			t.Errorf("the sandbox rejected %s: %+v", e.Name, e.Errors)
		}
		byType[e.ConversionType] = true
		if e.ConversionType == "OFF_AMAZON_PURCHASES" && (e.EventID != "ORD-DEMO-1" || e.Name != "demo_purchase" || *e.Value != 25.9) {
			t.Errorf("purchase %+v", e)
		}
	}
	if !byType["OFF_AMAZON_PURCHASES"] || !byType["ADD_TO_SHOPPING_CART"] {
		t.Errorf("got %v", byType)
	}
}

// loadDemo loads Caddyfile.example as the README runs it, on free ports,
// and returns the shop's and the sandbox's ports.
func loadDemo(t *testing.T) (shop, sb int) {
	t.Helper()
	raw, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	shop, sb = freePort(), freePort()
	root, _ := filepath.Abs("../demo/shop")
	cfg := strings.NewReplacer(
		"admin localhost:2{$SHOP_PORT:8080}", fmt.Sprintf("admin localhost:%d\n\tpersist_config off", adminPort),
		"localhost:{$SHOP_PORT:8080}", fmt.Sprintf("127.0.0.1:%d", shop),
		"localhost:{$SANDBOX_PORT:8081}", fmt.Sprintf("127.0.0.1:%d", sb),
		"./demo/spool", t.TempDir(),
		"./demo/shop", root,
	).Replace(string(raw))
	loadCaddy(t, cfg, "caddyfile")
	return shop, sb
}
