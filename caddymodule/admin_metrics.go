package caddymodule

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/shopsignal/caddy-amazon-capi/forward"
	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// metrics are built once per process and registered with each config's
// registry, so reloads neither panic on double registration nor reset the
// counters. Labels hold only configured names (destination account@host,
// with /v1 and /dry_run for those, see settings.name; event block names)
// and fixed words, never request data.
type metrics struct {
	events        *prometheus.CounterVec
	batchDuration *prometheus.HistogramVec
	tokenRefresh  *prometheus.CounterVec
	keysDropped   *prometheus.CounterVec
	customDropped *prometheus.CounterVec
	consentUnread *prometheus.CounterVec
	clickTokens   *prometheus.CounterVec
	invalidBy     *prometheus.CounterVec
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
		keysDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amazon_capi_match_keys_dropped_total",
			Help: "Match keys left out of events, by event, key type and reason (missing, or a value Amazon's normalisation rejects: invalid_email, invalid_phone, …).",
		}, []string{"destination", "event", "type", "reason"}),
		customDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amazon_capi_custom_data_dropped_total",
			Help: "Custom attributes left out of events because the value does not fit the type, by event, attribute and reason.",
		}, []string{"destination", "event", "attribute", "reason"}),
		consentUnread: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amazon_capi_consent_unreadable_total",
			Help: "Consent values no spelling of the consent table matches, by event and field: the event was not sent (amazon_consent_*) or was sent with LIMITED_DATA_USE (limited_data_use).",
		}, []string{"destination", "event", "field"}),
		invalidBy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amazon_capi_invalid_events_total",
			Help: "Matched requests that gave no event, by event, the config field that failed, and reason (a fixed set: no_value, empty, not_a_valid_code, bad_time, bad_number, negative, no_match_key, unreadable_consent, no_consent, body_too_large, body_not_json, not_a_single_value, duplicate_field, too_long).",
		}, []string{"destination", "event", "field", "reason"}),
		clickTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amazon_capi_click_tokens_total",
			Help: "Amazon click tokens (aref) seen: stored in the click_token cookie, malformed (ignored), or not stored because consent denies ad storage; malformed pairs left out of events.",
		}, []string{"outcome"}),
	}
})

// registerMetrics adds the collectors to a config's registry under Caddy's
// namespace (caddy_amazon_capi_…).
func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	m := theMetrics()
	r := prometheus.WrapRegistererWithPrefix("caddy_", reg)
	for _, c := range []prometheus.Collector{m.events, m.batchDuration, m.tokenRefresh, m.keysDropped, m.customDropped, m.consentUnread, m.clickTokens, m.invalidBy, m.state} {
		if err := r.Register(c); err != nil {
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

// invalid counts a matched request that gave no event, by the field that
// failed and its reason code.
func (m *metrics) invalid(destination, event, field, code string) {
	m.invalidBy.WithLabelValues(destination, event, field, code).Inc()
}

// onEvents counts what the forwarder did with events. The event label is
// the event's name in Amazon, which the config fixes (event_name is a literal).
func (m *metrics) onEvents(destination string) func(name, outcome string, n int) {
	return func(name, outcome string, n int) {
		m.events.WithLabelValues(destination, name, outcome).Add(float64(n))
	}
}

// dropped counts the match keys and custom attributes an event left out.
func (m *metrics) dropped(destination, event string, notes *mapping.Notes) {
	for _, d := range notes.DroppedKeys {
		m.keysDropped.WithLabelValues(destination, event, d.Type, d.Reason).Inc()
	}
	for _, d := range notes.DroppedCustom {
		m.customDropped.WithLabelValues(destination, event, d.Type, d.Reason).Inc()
	}
	for _, field := range notes.UnknownConsent {
		m.consentUnread.WithLabelValues(destination, event, field).Inc()
	}
	if notes.MalformedClickTokens > 0 {
		m.clickTokens.WithLabelValues("malformed_in_event").Add(float64(notes.MalformedClickTokens))
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
	syncFailDesc   = prometheus.NewDesc("amazon_capi_spool_sync_failures_total", "The spool's periodic fsyncs that failed since the destination started: events written before one may not survive a power loss; check the disk.", []string{"destination"}, nil)
	spoolLostDesc  = prometheus.NewDesc("amazon_capi_spool_lost_events_total", "Events found lost in the spool when it was opened, by reason: damaged_frame (the disk damaged a frame; the frames after it were kept) or torn_tail (a power cut or OS crash interrupted the last write). Each is in the error log with its segment and offset.", []string{"destination", "reason"}, nil)
)

// Describe sends the gauges' descriptions.
func (destinationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- spoolBytesDesc
	ch <- oldestAgeDesc
	ch <- syncFailDesc
	ch <- spoolLostDesc
	ch <- qualityDesc
	ch <- keyPresentDesc
	ch <- reconcileDesc
	ch <- unaccountedDesc
	ch <- rejectedDesc
	for _, d := range fleetDescs {
		ch <- d
	}
}

// Collect sends the gauges of every live destination. Two destinations
// can share a label (the same account at the same host with different
// spools or endpoint URLs, or the old and the new one for a moment while a
// reload changes the spool): a series sent twice would make the registry's
// Gather fail, and Caddy's whole /metrics answer 500. Such destinations are
// reported as one, as their counters are: their figures add up, and the
// oldest event's age is the larger one.
func (destinationCollector) Collect(ch chan<- prometheus.Metric) {
	var merged seriesSum
	each := make(chan prometheus.Metric)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range each {
			merged.add(m)
		}
	}()
	collectDestinations(each)
	close(each)
	<-done
	merged.send(ch)
}

// collectDestinations sends each live destination's series, one
// destination after the other.
func collectDestinations(ch chan<- prometheus.Metric) {
	for _, d := range liveDestinations() {
		d.quality.collect(ch, d.settings.label())
		d.collectReconciliation(ch)
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
		ch <- prometheus.MustNewConstMetric(syncFailDesc, prometheus.CounterValue, float64(st.SyncFailures), label)
		ch <- prometheus.MustNewConstMetric(spoolLostDesc, prometheus.CounterValue, float64(st.LostDamagedFrame), label, forward.LostDamagedFrame)
		ch <- prometheus.MustNewConstMetric(spoolLostDesc, prometheus.CounterValue, float64(st.LostTornTail), label, forward.LostTornTail)
		if d.fleet != nil {
			d.fleet.collect(ch, label)
		}
	}
}

// seriesSum merges the series of one scrape that have the same name and
// label values into one, in the order they were first sent.
type seriesSum struct {
	order  []*summedSeries
	byKey  map[seriesKey]*summedSeries
	others []prometheus.Metric // not readable: sent as they are
}

type seriesKey struct {
	desc   *prometheus.Desc
	labels string
}

func (s *seriesSum) add(m prometheus.Metric) {
	pb := new(dto.Metric)
	if err := m.Write(pb); err != nil {
		s.others = append(s.others, m) // the registry reports its error
		return
	}
	var labels strings.Builder
	for _, l := range pb.GetLabel() {
		labels.WriteString(l.GetName())
		labels.WriteByte(0xff)
		labels.WriteString(l.GetValue())
		labels.WriteByte(0xff)
	}
	key := seriesKey{m.Desc(), labels.String()}
	seen, ok := s.byKey[key]
	if !ok {
		if s.byKey == nil {
			s.byKey = map[seriesKey]*summedSeries{}
		}
		seen = &summedSeries{desc: key.desc, pb: pb}
		s.byKey[key] = seen
		s.order = append(s.order, seen)
		return
	}
	switch {
	case seen.pb.Counter != nil && pb.Counter != nil:
		seen.pb.Counter.Value = proto64(seen.pb.Counter.GetValue() + pb.Counter.GetValue())
	case seen.pb.Gauge != nil && pb.Gauge != nil && key.desc == oldestAgeDesc:
		seen.pb.Gauge.Value = proto64(max(seen.pb.Gauge.GetValue(), pb.Gauge.GetValue()))
	case seen.pb.Gauge != nil && pb.Gauge != nil:
		seen.pb.Gauge.Value = proto64(seen.pb.Gauge.GetValue() + pb.Gauge.GetValue())
	}
	// A series of another kind (none is sent today) keeps its first value.
}

func (s *seriesSum) send(ch chan<- prometheus.Metric) {
	for _, m := range s.order {
		ch <- m
	}
	for _, m := range s.others {
		ch <- m
	}
}

func proto64(v float64) *float64 { return &v }

// summedSeries is a merged series, as the registry reads it.
type summedSeries struct {
	desc *prometheus.Desc
	pb   *dto.Metric
}

// Desc returns the series' description.
func (s *summedSeries) Desc() *prometheus.Desc { return s.desc }

// Write fills out with the series' labels and merged value.
func (s *summedSeries) Write(out *dto.Metric) error {
	out.Label, out.Counter, out.Gauge, out.Untyped = s.pb.Label, s.pb.Counter, s.pb.Gauge, s.pb.Untyped
	out.Summary, out.Histogram, out.TimestampMs = s.pb.Summary, s.pb.Histogram, s.pb.TimestampMs
	return nil
}
