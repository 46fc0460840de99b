package caddymodule

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopsignal/caddy-amazon-capi/forward"
)

// confirmations count, per event name, what happened on the site's side:
// events the site confirmed (matched, and answered as when_response
// wants), those that gave no event (invalid), those logged by a dry run,
// and those a stopped destination could not hand over (lost).
type confirmations struct{ byName sync.Map }

type confirmed struct {
	confirmed, invalid, dryRun, lost atomic.Uint64
	// invalidBy counts the invalid ones by field and reason code
	// (invalidKey → *atomic.Uint64): bounded by the config's fields and
	// mapping's fixed codes.
	invalidBy sync.Map
}

// invalidKey is a field of an event and why it made the event invalid.
type invalidKey struct{ field, code string }

// invalidOne counts one invalid event, by the field and code that failed.
func (c *confirmed) invalidOne(field, code string) {
	v, _ := c.invalidBy.LoadOrStore(invalidKey{field, code}, new(atomic.Uint64))
	v.(*atomic.Uint64).Add(1)
	c.invalid.Add(1)
}

// InvalidCount is how many events of one name a field made invalid, for
// one reason.
type InvalidCount struct {
	// Event is the event's name in Amazon.
	Event string `json:"event"`
	// Field is the config field that failed (value, currency, match_key, …).
	Field string `json:"field"`
	// Reason is why, one of a fixed set of words (no_value, empty,
	// not_a_valid_code, bad_time, bad_number, negative, no_match_key,
	// unreadable_consent, no_consent, body_too_large, body_not_json,
	// not_a_single_value, duplicate_field, too_long).
	Reason string `json:"reason"`
	// Count is how many events.
	Count uint64 `json:"count"`
}

// invalidCounts lists the invalid events by event, field and reason, most
// first.
func (c *confirmations) invalidCounts() []InvalidCount {
	var out []InvalidCount
	c.byName.Range(func(name, v any) bool {
		v.(*confirmed).invalidBy.Range(func(k, n any) bool {
			key := k.(invalidKey)
			out = append(out, InvalidCount{Event: name.(string), Field: key.field, Reason: key.code, Count: n.(*atomic.Uint64).Load()})
			return true
		})
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Event+out[i].Field+out[i].Reason < out[j].Event+out[j].Field+out[j].Reason
	})
	return out
}

// totals are the counts of every event name together.
type totals struct{ matched, invalid, dryRun, lost uint64 }

func (c *confirmations) totals() totals {
	var t totals
	c.byName.Range(func(_, v any) bool {
		n := v.(*confirmed)
		t.matched += n.confirmed.Load()
		t.invalid += n.invalid.Load()
		t.dryRun += n.dryRun.Load()
		t.lost += n.lost.Load()
		return true
	})
	return t
}

func (c *confirmations) of(name string) *confirmed {
	if v, ok := c.byName.Load(name); ok {
		return v.(*confirmed)
	}
	v, _ := c.byName.LoadOrStore(name, new(confirmed))
	return v.(*confirmed)
}

// Reconciliation accounts for every event the site confirmed, for one
// event name: Confirmed + CarriedOver + Replayed = Invalid + Deduped +
// Dropped + DryRun + Sent + DeadLettered + LostInSpool + Pending +
// Unaccounted, and Unaccounted must be 0 (it is a metric and an alert of
// its own).
type Reconciliation struct {
	// Event is the event's name in Amazon.
	Event string `json:"event"`
	// Confirmed counts the events the site confirmed since the destination
	// started: matched, and answered as when_response wants.
	Confirmed uint64 `json:"confirmed"`
	// CarriedOver counts the events found in the spool at start.
	CarriedOver uint64 `json:"carried_over"`
	// Replayed counts dead-lettered events queued again.
	Replayed uint64 `json:"replayed"`
	// Invalid counts confirmed requests that gave no event (see the logs
	// and caddy_amazon_capi_match_keys_dropped_total for why).
	Invalid uint64 `json:"invalid"`
	// Deduped counts events whose ID was sent within the dedupe window.
	Deduped uint64 `json:"deduped"`
	// Dropped counts events not kept: intake or spool full, or a stopped
	// destination could not hand them over.
	Dropped uint64 `json:"dropped"`
	// DryRun counts events logged by a dry run, not sent.
	DryRun uint64 `json:"dry_run,omitempty"`
	// Queued counts the events handed to the forwarder.
	Queued uint64 `json:"queued"`
	// Sent counts the events Amazon accepted; in fleet mode, the events
	// shipped into the NATS stream, from where any replica delivers them
	// (the fleet's own reconciliation is in docs/fleet.md).
	Sent uint64 `json:"sent"`
	// DeadLettered counts events kept in the dead letter: refused by
	// Amazon, or too old to send.
	DeadLettered uint64 `json:"dead_lettered"`
	// Rejected counts the dead-lettered events by reason (Amazon's error
	// code, HTTP_<status> for a batch refused whole, TOO_OLD).
	Rejected map[string]uint64 `json:"rejected"`
	// LostInSpool counts events carried over from the previous run that
	// were lost in a damaged stretch of the spool. Their names cannot be
	// read: they are in the row named "(lost in the spool)", which counts
	// them as carried over too.
	LostInSpool uint64 `json:"lost_in_spool"`
	// Pending counts the events waiting to be sent, in memory or spooled.
	Pending int64 `json:"pending"`
	// Unaccounted is what the rest cannot explain; 0 unless events were
	// lost (or are in flight between two counters for a moment).
	Unaccounted int64 `json:"unaccounted"`
}

// reconcile returns the destination's reconciliation per event name.
//
// The confirmations are read before the forwarder's ledgers: an event is
// confirmed only once its outcome is counted (see emit), so one that
// moves on between the two reads is counted twice for a moment
// (unaccounted below 0), never missed (above 0, which alerts).
func (d *liveDestination) reconcile() []Reconciliation {
	rows := map[string]*Reconciliation{}
	row := func(name string) *Reconciliation {
		if r, ok := rows[name]; ok {
			return r
		}
		rows[name] = &Reconciliation{Event: name, Rejected: map[string]uint64{}}
		return rows[name]
	}
	d.confirmations.byName.Range(func(k, v any) bool {
		c, r := v.(*confirmed), row(k.(string))
		r.Confirmed = c.confirmed.Load() // first: every outcome below is counted before its confirmation
		r.Invalid, r.DryRun, r.Dropped = c.invalid.Load(), c.dryRun.Load(), c.lost.Load()
		return true
	})
	ledgers := map[string]forward.Ledger{}
	if d.forwarder != nil {
		ledgers = d.forwarder.Ledgers()
	}
	for name, l := range ledgers {
		r := row(name)
		r.CarriedOver, r.Replayed, r.Deduped, r.Queued = l.Carried, l.Replayed, l.Deduped, l.Queued
		r.Dropped += l.Dropped
		r.Sent, r.DeadLettered, r.Rejected, r.Pending = l.Sent, l.DeadLettered, l.Rejected, l.Pending()
		r.LostInSpool = l.LostInSpool
	}
	out := make([]Reconciliation, 0, len(rows))
	for _, r := range rows {
		in := int64(r.Confirmed + r.CarriedOver + r.Replayed)
		r.Unaccounted = in - int64(r.Invalid+r.Deduped+r.Dropped+r.DryRun+r.Sent+r.DeadLettered+r.LostInSpool) - r.Pending
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Event < out[j].Event })
	return out
}

var (
	reconcileDesc = prometheus.NewDesc("amazon_capi_reconciliation_events",
		"Every event the site confirmed, accounted for, by event and state: confirmed, carried_over, replayed, invalid, deduped, dropped, dry_run, sent, dead_lettered, lost_in_spool, pending (since the destination started).",
		[]string{"destination", "event", "state"}, nil)
	unaccountedDesc = prometheus.NewDesc("amazon_capi_unaccounted_events",
		"Events the site confirmed that no other state accounts for: must be 0.", []string{"destination", "event"}, nil)
	rejectedDesc = prometheus.NewDesc("amazon_capi_rejected_events",
		"Dead-lettered events by reason: Amazon's error code, HTTP_<status> for a batch refused whole, TOO_OLD.",
		[]string{"destination", "event", "reason"}, nil)
)

// collectReconciliation sends a destination's reconciliation.
func (d *liveDestination) collectReconciliation(ch chan<- prometheus.Metric) {
	label := d.settings.label()
	for _, r := range d.reconcile() {
		for state, n := range map[string]float64{
			"confirmed": float64(r.Confirmed), "carried_over": float64(r.CarriedOver), "replayed": float64(r.Replayed),
			"invalid": float64(r.Invalid), "deduped": float64(r.Deduped), "dropped": float64(r.Dropped),
			"dry_run": float64(r.DryRun), "sent": float64(r.Sent), "dead_lettered": float64(r.DeadLettered),
			"lost_in_spool": float64(r.LostInSpool), "pending": float64(r.Pending),
		} {
			ch <- prometheus.MustNewConstMetric(reconcileDesc, prometheus.GaugeValue, n, label, r.Event, state)
		}
		ch <- prometheus.MustNewConstMetric(unaccountedDesc, prometheus.GaugeValue, float64(r.Unaccounted), label, r.Event)
		for reason, n := range r.Rejected {
			ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.GaugeValue, float64(n), label, r.Event, reason)
		}
	}
}
