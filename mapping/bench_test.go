package mapping

import "testing"

// BenchmarkEvaluateCheckout maps a typical 1 KiB JSON checkout with three
// match keys (two hashed), value, currency, units and custom data.
func BenchmarkEvaluateCheckout(b *testing.B) { benchmarkCheckout(b, checkoutRule(), false) }

// BenchmarkDedupeIDThenEvaluate is what the handler does for an event with
// a body dedupe_id: the ID is read first (to hand it out with the
// request), then the event is built.
func BenchmarkDedupeIDThenEvaluate(b *testing.B) { benchmarkCheckout(b, checkoutRule(), true) }

func benchmarkCheckout(b *testing.B, rule Rule, dedupeIDFirst bool) {
	m, err := Compile("purchase", rule)
	if err != nil {
		b.Fatal(err)
	}
	req := checkoutRequest(checkoutJSON)
	b.ReportAllocs()
	for b.Loop() {
		r := *req
		if dedupeIDFirst {
			if _, ok := m.DedupeID(&r); !ok {
				b.Fatal("no dedupe ID")
			}
		}
		if _, err := m.Evaluate(&r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashEmail normalizes and hashes one email address.
func BenchmarkHashEmail(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MatchKeyValue("EMAIL", "  John.Doe+Shop@Example.COM ", "US"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateCheckoutWithoutPhone is BenchmarkEvaluateCheckout
// without the PHONE key, whose normalisation (package normalize) is most
// of the checkout's time: what remains is the mapping's own work.
func BenchmarkEvaluateCheckoutWithoutPhone(b *testing.B) {
	benchmarkCheckout(b, checkoutRuleWithoutPhone(), false)
}

func checkoutRuleWithoutPhone() Rule {
	rule := checkoutRule()
	var keys []MatchKeyRule
	for _, k := range rule.MatchKeys {
		if k.Type != "PHONE" {
			keys = append(keys, k)
		}
	}
	rule.MatchKeys = keys
	return rule
}

// The checkout's event is built with a fixed, small number of
// allocations: the event's own slices, strings and parts, nothing per
// value read or key normalized.
func TestEvaluateCheckoutAllocations(t *testing.T) {
	for name, rule := range map[string]Rule{"with phone": checkoutRule(), "without phone": checkoutRuleWithoutPhone()} {
		m, err := Compile("purchase", rule)
		if err != nil {
			t.Fatal(err)
		}
		req := checkoutRequest(checkoutJSON)
		r := *req
		allocs := testing.AllocsPerRun(100, func() {
			r = *req
			if _, err := m.Evaluate(&r); err != nil {
				t.Fatal(err)
			}
		})
		// The event's own (keys, values, two hex digests, parts, custom
		// data, event time and the brand's value), the body as a string
		// (read by gjson), the phone number's digits, and net/http's
		// reading of the consent cookie (the Cookie and its list).
		ceiling := map[string]float64{"with phone": 14, "without phone": 11}[name]
		if allocs > ceiling {
			t.Errorf("%s: %v allocations per checkout, want at most %v", name, allocs, ceiling)
		}
	}
}
