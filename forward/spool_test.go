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

// The sender reads each batch into the array of the one before: the
// records are right, and no new array is made while the batch fits (the
// second batch here is the second half of the first).
func TestOldestIntoReusesItsArray(t *testing.T) {
	s := openSpool(t, t.TempDir())
	defer s.Close()
	var events []json.RawMessage
	for i := range 6 {
		events = append(events, encode(event(i))...)
	}
	if err := s.Append(events, time.Now()); err != nil {
		t.Fatal(err)
	}
	all, arena, err := s.oldestInto(6, nil)
	if err != nil || len(all) != 6 {
		t.Fatalf("%d records, %v", len(all), err)
	}
	if err := s.Remove(all[:3]); err != nil {
		t.Fatal(err)
	}
	second, again, err := s.oldestInto(3, arena)
	if err != nil {
		t.Fatal(err)
	}
	if &again[:1][0] != &arena[:1][0] {
		t.Error("the second batch was read into a new array though it fit the first one's")
	}
	for i, r := range second {
		if want := string(events[3+i]); string(r.Event) != want {
			t.Errorf("record %d is %s, want %s", i, r.Event, want)
		}
	}
}
