package caddymodule

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are built once per process and registered with each config's
// registry, so reloads neither panic on double registration nor reset the
// counters. Labels hold only configured names (destination account@host,
// event block names) and fixed words, never request data.
type metrics struct {
	events        *prometheus.CounterVec
	batchDuration *prometheus.HistogramVec
	tokenRefresh  *prometheus.CounterVec
	state         destinationCollector
}

var theMetrics = sync.OnceValue(func() *metrics {
	return &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amazon_capi_events_total",
			Help: "Conversion events by destination, event and outcome: matched, invalid, deduped, dropped, sent, rejected, dead_lettered.",
		}, []string{"destination", "event", "outcome"}),
		batchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "amazon_capi_batch_duration_seconds",
			Help:    "Duration of calls to Amazon's events API, by HTTP status (0: no answer).",
			Buckets: prometheus.DefBuckets,
		}, []string{"destination", "status"}),
		tokenRefresh: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amazon_capi_token_refresh_total",
			Help: "Login with Amazon refresh-token grants by result (ok, error).",
		}, []string{"destination", "result"}),
	}
})

// registerMetrics adds the collectors to a config's registry.
func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	m := theMetrics()
	for _, c := range []prometheus.Collector{m.events, m.batchDuration, m.tokenRefresh, m.state} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}

func (m *metrics) event(destination, event, outcome string) {
	m.events.WithLabelValues(destination, event, outcome).Inc()
}

// onEvents counts what the forwarder did with events. The event label is
// the event's name in Amazon, which the config fixes (event_name is a literal).
func (m *metrics) onEvents(destination string) func(name, outcome string, n int) {
	return func(name, outcome string, n int) {
		m.events.WithLabelValues(destination, name, outcome).Add(float64(n))
	}
}

func (m *metrics) onBatch(destination string, status int, took time.Duration) {
	m.batchDuration.WithLabelValues(destination, strconv.Itoa(status)).Observe(took.Seconds())
}

func (m *metrics) onRefresh(destination string) func(error) {
	return func(err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		m.tokenRefresh.WithLabelValues(destination, result).Inc()
	}
}

// destinationCollector reports the live destinations' gauges at scrape time.
type destinationCollector struct{}

var (
	queueDepthDesc = prometheus.NewDesc("amazon_capi_queue_depth", "Events waiting to be sent, in memory and spooled.", []string{"destination"}, nil)
	spoolBytesDesc = prometheus.NewDesc("amazon_capi_spool_bytes", "Encoded size of the spooled events.", []string{"destination"}, nil)
	oldestAgeDesc  = prometheus.NewDesc("amazon_capi_oldest_event_age_seconds", "How long the oldest unsent event has waited.", []string{"destination"}, nil)
)

// Describe sends the gauges' descriptions.
func (destinationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- spoolBytesDesc
	ch <- oldestAgeDesc
}

// Collect sends the gauges of every live destination.
func (destinationCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range liveDestinations() {
		if d.forwarder == nil {
			continue
		}
		st := d.forwarder.Stats()
		label := d.settings.label()
		age := 0.0
		if !st.Oldest.IsZero() {
			age = time.Since(st.Oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.QueueDepth), label)
		ch <- prometheus.MustNewConstMetric(spoolBytesDesc, prometheus.GaugeValue, float64(st.SpoolBytes), label)
		ch <- prometheus.MustNewConstMetric(oldestAgeDesc, prometheus.GaugeValue, age, label)
	}
}
