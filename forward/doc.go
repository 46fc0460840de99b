// Package forward delivers events to Amazon in the background. It knows
// nothing about Caddy or the mapping language: it moves amazon.Events,
// encoded once by Enqueue, to a Sender.
//
// The parts, in the order an event meets them:
//
//   - intake.go: Enqueue hands an event to a bounded in-memory intake; the
//     writer moves what waits into the Spool, many events per write.
//   - spool.go, segment.go, damage.go: the Spool, a log of segment files
//     of CRC-32C frames, and what happens to a damaged one.
//   - deliver.go: the sender reads batches of at most BatchSize (or what
//     waits once the oldest has waited FlushInterval), sends them, and
//     acts on Amazon's answer: per-event rejections, retries with backoff,
//     splitting a batch that is too large, the age cutoff.
//   - deadletter.go, dedupe.go: the events Amazon refused for good; the
//     event IDs seen within the dedupe window.
//   - stats.go, ledger.go: what became of the events, in total and by name.
//   - forwarder.go: the Forwarder, its Config, and its life: Start,
//     Configure (a reload, in place), Stop.
//
// The invariants, each held in one place:
//
//   - Enqueue never blocks and never fails the caller: a full intake, a
//     dedupe hit or a stopped forwarder is an Outcome, counted.
//   - An event Enqueue reports Queued is in the intake before the writer's
//     last drain: Enqueue and Stop meet at a read-write lock (intake.go).
//   - A write to the spool is one frame; it survives the process dying at
//     once, and a power cut once fsynced (every SpoolSync, or with the
//     write). A damaged frame costs its own events alone, counted in events
//     (damage.go).
//   - An event leaves the spool only after Amazon has answered for it (or
//     it was dead-lettered, or dropped and counted); so a crash or a restart
//     loses nothing that reached the spool, and a batch may be sent twice,
//     with the same eventIds, which Amazon deduplicates.
//   - Every event is at any moment in exactly one state of its ledger
//     (ledger.go): each stage counts an event before the stage before it
//     lets it go, and Ledgers reads the stages in order, so a reading may
//     count an event twice, never miss it.
package forward
