package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkBatchOf500 is the sandbox's cost for one full v2 batch: reading,
// validating and answering 500 events.
func BenchmarkBatchOf500(b *testing.B) {
	s := newSandbox(Config{Keep: 10})
	events := make([]any, 500)
	for i := range events {
		events[i] = v2Event(fmt.Sprintf("ev-%d", i))
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, pathV2, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer static")
		r.Header.Set("Amazon-Ads-AccountId", "ACCT")
		r.Header.Set("Amazon-Ads-ClientId", "cid")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusMultiStatus {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
