package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

func TestAnInvalidRequestIsLoggedAtDebugWithoutItsValues(t *testing.T) {
	m, err := mapping.Compile("signup", mapping.Rule{Type: "SIGN_UP", Country: "header.X-Country", MatchKeys: []mapping.MatchKeyRule{{Type: "EMAIL", Value: "query.email"}}})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	ev := &Event{Name: "signup", mapping: m, matchedTotal: theMetrics().events.WithLabelValues("test", "signup", "matched")}
	h := &Handler{Events: []*Event{ev}, logger: zap.New(core), dest: &liveDestination{logger: zap.NewNop()}}
	r := httptest.NewRequest(http.MethodPost, "/signup?email=jane.private%40example.com", nil)
	r.Header.Set("X-Country", "Atlantis")
	h.emit(h.Events, &mapping.Request{HTTP: r})

	if h.dest.confirmations.totals().invalid != 1 || h.dest.confirmations.totals().matched != 1 {
		t.Errorf("counters matched=%d invalid=%d", h.dest.confirmations.totals().matched, h.dest.confirmations.totals().invalid)
	}
	entries := logs.All()
	if len(entries) != 1 || entries[0].Level != zap.DebugLevel {
		t.Fatalf("logs %v, want one debug line", entries)
	}
	fields := entries[0].ContextMap()
	if fields["event"] != "signup" || fields["field"] != "country" || !strings.Contains(fields["reason"].(string), "not a valid value") {
		t.Errorf("fields %v", fields)
	}
	line := entries[0].Message + " " + strings.Join([]string{fields["reason"].(string), fields["field"].(string)}, " ")
	for _, pii := range []string{"jane", "private", "Atlantis"} {
		if strings.Contains(line, pii) {
			t.Errorf("the log line quotes the request: %s", line)
		}
	}
}

func TestAPanicWhileMappingIsRecoveredAndCounted(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	// An event without a compiled mapping panics in Evaluate.
	h := &Handler{Events: []*Event{{Name: "broken"}}, logger: zap.New(core), dest: &liveDestination{logger: zap.NewNop()}}
	h.emit(h.Events, &mapping.Request{HTTP: httptest.NewRequest(http.MethodGet, "/", nil)})
	if h.dest.counters.panics.Load() != 1 || logs.FilterMessageSnippet("recovered from a panic").Len() != 1 {
		t.Errorf("panics=%d logs=%v", h.dest.counters.panics.Load(), logs.All())
	}
}
