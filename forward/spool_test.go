package forward

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// A spool keeps each event's JSON as it was encoded, byte for byte, with
// the time it was queued.
func TestTheSpoolKeepsEachEventsJSONAsEncoded(t *testing.T) {
	s := openSpool(t, t.TempDir())
	defer s.Close()
	raw := encode(event(1), event(2))
	queued := time.UnixMilli(time.Now().UnixMilli())
	if err := s.Append(raw, queued); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Oldest(10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for i, r := range recs {
		if string(r.Event) != string(raw[i]) || !r.Queued.Equal(queued) {
			t.Errorf("record %d: %s queued %v; want %s queued %v", i, r.Event, r.Queued, raw[i], queued)
		}
	}
	var second amazon.Event
	_ = json.Unmarshal(raw[1], &second)
	if recs[1].ID() != "ev-2" || recs[1].Name() != "purchase" || recs[1].Time() != second.EventTime {
		t.Errorf("id %q name %q time %q", recs[1].ID(), recs[1].Name(), recs[1].Time())
	}
}

// Ten thousand events written in twenty groups are read back in order, and
// removing the first 9,000 leaves the last 1,000.
func TestALargeSpoolKeepsEveryEventInOrder(t *testing.T) {
	s := openSpool(t, t.TempDir())
	defer s.Close()
	for i := 0; i < 20; i++ {
		batch := make([]amazon.Event, 500)
		for j := range batch {
			batch[j] = event(i*500 + j)
		}
		if err := s.Append(encode(batch...), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.Oldest(10_000)
	if err != nil || len(recs) != 10_000 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("ev-%d", i); r.ID() != want {
			t.Fatalf("record %d is %s, want %s", i, r.ID(), want)
		}
	}
	if err := s.Remove(recs[:9_000]); err != nil {
		t.Fatal(err)
	}
	if recs, _ := s.Oldest(10_000); len(recs) != 1_000 || recs[0].ID() != "ev-9000" {
		t.Fatalf("after removing 9,000: %d records, first %s", len(recs), recs[0].ID())
	}
}

// encode returns the JSON of each event, as the spool keeps it.
func encode(events ...amazon.Event) []json.RawMessage {
	out := make([]json.RawMessage, len(events))
	for i := range events {
		out[i], _ = json.Marshal(&events[i])
	}
	return out
}
