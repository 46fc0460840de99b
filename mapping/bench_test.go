package mapping

import "testing"

// BenchmarkEvaluateCheckout maps a typical 1 KiB JSON checkout with three
// match keys (two hashed), value, currency, units and custom data.
func BenchmarkEvaluateCheckout(b *testing.B) { benchmarkCheckout(b, false) }

// BenchmarkDedupeIDThenEvaluate is what the handler does for an event with
// a body dedupe_id: the ID is read first (to hand it out with the
// request), then the event is built.
func BenchmarkDedupeIDThenEvaluate(b *testing.B) { benchmarkCheckout(b, true) }

func benchmarkCheckout(b *testing.B, dedupeIDFirst bool) {
	m, err := Compile("purchase", checkoutRule())
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
