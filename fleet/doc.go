// Package fleet lets several Caddy replicas share one durable,
// deduplicating queue on NATS JetStream, so that a replica that goes away
// (a pod rescheduled with an empty disk) loses nothing.
//
// Each replica keeps its own spool (package forward) in front of the
// queue: the request path is unchanged, and the forwarder's sender is a
// Shipper, which publishes spooled events to the destination's stream
// (one message per event, Nats-Msg-Id set to the event ID) and reports
// them sent only once JetStream has acknowledged them. Every replica runs
// a Deliverer on the stream's one durable pull consumer, which sends
// batches to Amazon and acknowledges each event on Amazon's answer.
//
// What holds:
//   - An event leaves a replica's spool only after JetStream stored it
//     (a duplicate acknowledgement counts: another replica shipped the
//     same event ID within the stream's duplicate window).
//   - An event leaves the stream only when Amazon took it, or refused it
//     for good and the refusal is in the dead-letter stream; a replica
//     that dies mid-batch leaves its events unacknowledged, and JetStream
//     gives them to another replica after the acknowledgement wait.
//   - The consumer's MaxAckPending (2 × the batch size) bounds the events
//     out to Amazon across the fleet, so the fleet calls Amazon at one
//     destination's pace.
//   - The queue carries only what Amazon receives: match keys are hashed
//     before an event reaches the spool.
//
// Nothing here replicates, elects or queues by itself: JetStream does.
package fleet
