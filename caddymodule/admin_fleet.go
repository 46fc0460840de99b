package caddymodule

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/shopsignal/caddy-amazon-capi/fleet"
	"github.com/shopsignal/caddy-amazon-capi/forward"
)

// FleetStatus is a destination's part in the fleet, as GET /amazon_capi/
// shows it: what this replica shipped and delivered, and the shared queue.
// In fleet mode the forwarder's sent count is what it shipped, and its
// queue depth and oldest event what is not shipped yet.
type FleetStatus struct {
	// Stream is the NATS stream of the destination's events; its dead
	// letters are in Stream_DEAD.
	Stream string `json:"stream"`
	// Ship is this replica's shipping into the stream.
	Ship fleet.ShipStats `json:"ship"`
	// Deliver is this replica's delivering from the stream to Amazon.
	Deliver fleet.DeliverStats `json:"deliver"`
	// Queue is the stream's state, the same on every replica.
	Queue fleet.State `json:"queue"`
}

func (f *fleetMode) status() *FleetStatus {
	ship, deliver := f.stats()
	return &FleetStatus{Stream: f.names.Stream, Ship: ship, Deliver: deliver, Queue: f.stateNow()}
}

var (
	fleetShippedDesc    = prometheus.NewDesc("amazon_capi_fleet_shipped_total", "Events this replica shipped into the NATS stream (JetStream acknowledged them), duplicates included.", []string{"destination"}, nil)
	fleetDuplicatesDesc = prometheus.NewDesc("amazon_capi_fleet_duplicates_total", "Shipped events the stream already had: the same event ID shipped within its duplicate window, by this replica or another.", []string{"destination"}, nil)
	fleetShipErrorsDesc = prometheus.NewDesc("amazon_capi_fleet_ship_errors_total", "Events a publish to NATS failed for; they stay in the spool and are shipped again.", []string{"destination"}, nil)
	fleetDeliveredDesc  = prometheus.NewDesc("amazon_capi_fleet_delivered_total", "Events this replica took from the stream and Amazon accepted.", []string{"destination"}, nil)
	fleetDeadDesc       = prometheus.NewDesc("amazon_capi_fleet_dead_lettered_total", "Events this replica put in the dead-letter stream: Amazon refused them for good.", []string{"destination"}, nil)
	fleetRetriedDesc    = prometheus.NewDesc("amazon_capi_fleet_retried_total", "Events this replica gave back to the stream to be delivered again later.", []string{"destination"}, nil)
	fleetStreamDesc     = prometheus.NewDesc("amazon_capi_fleet_stream_messages", "Events in the NATS stream: waiting, or out to a replica (the same on every replica).", []string{"destination"}, nil)
	fleetPendingDesc    = prometheus.NewDesc("amazon_capi_fleet_consumer_pending", "Events in the stream no replica has taken yet.", []string{"destination"}, nil)
	fleetAckPendingDesc = prometheus.NewDesc("amazon_capi_fleet_ack_pending", "Events out to a replica, not yet acknowledged.", []string{"destination"}, nil)
	fleetRedelivDesc    = prometheus.NewDesc("amazon_capi_fleet_redelivered", "Events out again after a retry or a replica's loss.", []string{"destination"}, nil)
	fleetDeadLetterDesc = prometheus.NewDesc("amazon_capi_fleet_dead_letters", "Events in the dead-letter stream.", []string{"destination"}, nil)
	fleetUpDesc         = prometheus.NewDesc("amazon_capi_fleet_nats_up", "1 when the stream's state could be read from NATS, else 0.", []string{"destination"}, nil)
)

var fleetDescs = []*prometheus.Desc{fleetShippedDesc, fleetDuplicatesDesc, fleetShipErrorsDesc, fleetDeliveredDesc, fleetDeadDesc,
	fleetRetriedDesc, fleetStreamDesc, fleetPendingDesc, fleetAckPendingDesc, fleetRedelivDesc, fleetDeadLetterDesc, fleetUpDesc}

// collect sends the fleet's series for the destination labelled label.
func (f *fleetMode) collect(ch chan<- prometheus.Metric, label string) {
	ship, deliver := f.stats()
	st := f.stateNow()
	up := 1.0
	if st.Err != "" {
		up = 0
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, label)
	}
	counter(fleetShippedDesc, ship.Shipped)
	counter(fleetDuplicatesDesc, ship.Duplicates)
	counter(fleetShipErrorsDesc, ship.Errors)
	counter(fleetDeliveredDesc, deliver.Delivered)
	counter(fleetDeadDesc, deliver.DeadLettered)
	counter(fleetRetriedDesc, deliver.Retried)
	gauge(fleetStreamDesc, float64(st.Messages))
	gauge(fleetPendingDesc, float64(st.Pending))
	gauge(fleetAckPendingDesc, float64(st.AckPending))
	gauge(fleetRedelivDesc, float64(st.Redelivered))
	gauge(fleetDeadLetterDesc, float64(st.DeadLetters))
	gauge(fleetUpDesc, up)
}

// deadLetters lists up to limit of the dead-letter stream's letters, in
// the local dead letter's form.
func (f *fleetMode) deadLetters(limit int) []forward.Letter {
	f.mu.Lock()
	q := f.queue
	f.mu.Unlock()
	if q == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	letters, err := q.DeadLetters(ctx, limit)
	if err != nil {
		f.logger.Error("reading the dead-letter stream", zap.String("stream", f.names.DeadStream), zap.Error(err))
	}
	out := make([]forward.Letter, 0, len(letters))
	for _, l := range letters {
		out = append(out, forward.Letter{Time: l.At, Status: l.Status, Code: l.Code, Reason: l.Reason, Event: l.Event})
	}
	return out
}

// replay puts the dead-letter stream's letters back in the queue.
func (f *fleetMode) replay() (int, error) {
	f.mu.Lock()
	q := f.queue
	f.mu.Unlock()
	if q == nil {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return q.Replay(ctx, 1<<30)
}
