package forward

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// senderFunc is an Amazon that answers at once, without reading the events.
type senderFunc func([]json.RawMessage) (*amazon.Result, error)

func (s senderFunc) Send(_ context.Context, events []json.RawMessage) (*amazon.Result, error) {
	return s(events)
}

// BenchmarkForwarderThroughput pushes events through the intake, the
// spool (the fsynced log) and batches of 500 to an in-process Amazon that
// accepts everything, and reports events per second end to end and the
// process's CPU per event (Enqueue's encoding included).
func BenchmarkForwarderThroughput(b *testing.B) {
	spool, err := OpenSpool(filepath.Join(b.TempDir(), "spool"))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan int, 1024)
	sink := senderFunc(func(events []json.RawMessage) (*amazon.Result, error) {
		return &amazon.Result{Status: 207, Accepted: len(events)}, nil
	})
	f := New(Config{BatchSize: 500, FlushInterval: time.Millisecond, QueueSize: 20000, DedupeWindow: -1,
		AfterBatch: func(r BatchReport) { done <- r.Sent }}, sink, spool)
	defer f.Stop(context.Background())
	events := make([]amazon.Event, 1000)
	for i := range events {
		events[i] = event(i)
	}
	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	for i := 0; i < b.N; i++ {
		for f.Enqueue(events[i%len(events)]) != Queued {
			time.Sleep(50 * time.Microsecond) // the intake is full: let the writer catch up
		}
	}
	for sent := 0; sent < b.N; sent += <-done {
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/event")
}

// BenchmarkSpoolCycle is what the spool does for each event in the
// forwarder's steady state: the writer appends groups of 200 records
// (fsynced once per group), the sender reads batches of 500 and removes
// them. Beside the wall time (which includes waiting for the disk) it
// reports the process's CPU per event.
func BenchmarkSpoolCycle(b *testing.B) {
	spool, err := OpenSpool(filepath.Join(b.TempDir(), "spool"))
	if err != nil {
		b.Fatal(err)
	}
	defer spool.Close()
	e := event(1)
	records := make([][]byte, 200)
	names := make([]string, 200)
	for i := range records {
		raw, _ := json.Marshal(&e)
		records[i] = append(make([]byte, storedHeader, 1024), raw...)
		names[i] = "purchase"
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for done := 0; done < b.N; {
		n := min(len(records), b.N-done)
		if err := spool.appendRecords(records[:n], names[:n], time.Now(), nil, true); err != nil {
			b.Fatal(err)
		}
		done += n
		if spool.Len() >= 500 || done == b.N {
			batch, err := spool.Oldest(500)
			if err != nil {
				b.Fatal(err)
			}
			if err := spool.Remove(batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/event")
}
