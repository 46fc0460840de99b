package mapping

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// recycleBodies are checkouts that differ in every value the event points
// to through the arena: keys present or not, hashes, consent, device, value.
func recycleBodies() []string {
	var bodies []string
	for i, phone := range []string{"+49 30 1234567", "", "+1 206 555 0100", "not a phone"} {
		b := strings.Replace(checkoutJSON, "Jane.Doe", fmt.Sprintf("shopper%d", i), 1)
		b = strings.Replace(b, "+49 30 1234567", phone, 1)
		b = strings.Replace(b, "129.95", fmt.Sprintf("%d.5", 10+i), 1)
		bodies = append(bodies, b)
	}
	return bodies
}

// refill resets r and makes it the view of src's request, recycling, as
// the module does with its pooled views.
func refill(r, src *Request) {
	r.Reset()
	r.HTTP, r.Body, r.RemoteIP, r.Arrived = src.HTTP, src.Body, src.RemoteIP, src.Arrived
	r.Recycle = true
}

// A request view reused from one request to the next (Reset, Recycle)
// builds, for each, the event a fresh view builds, as long as each event is
// used up before the next Evaluate: nothing of the last request shows.
func TestARecycledRequestBuildsTheSameEventsAsAFreshOne(t *testing.T) {
	m := mustCompile(t, checkoutRule())
	reused := new(Request)
	for round := range 2 {
		for i, body := range recycleBodies() {
			want, wantErr := m.Evaluate(checkoutRequest(body))
			refill(reused, checkoutRequest(body))
			if round == 1 { // a different user agent, to show the device part is rebuilt
				reused.HTTP.Header.Set("User-Agent", fmt.Sprintf("agent %d", i))
				want.DeviceInfo.UserAgent = fmt.Sprintf("agent %d", i)
			}
			got, err := m.Evaluate(reused)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("round %d body %d: error %v, a fresh request gives %v", round, i, err, wantErr)
			}
			if g, w := jsonOf(got), jsonOf(want); g != w {
				t.Errorf("round %d body %d: recycled\n%s\nfresh\n%s", round, i, g, w)
			}
		}
	}
}

// Reset keeps no value of the request: the arena's strings and parts are
// cleared, and the request reads as new.
func TestResetKeepsNothingOfTheRequest(t *testing.T) {
	m := mustCompile(t, checkoutRule())
	r := checkoutRequest(checkoutJSON)
	r.Recycle = true
	r.FixedIDs = append(r.FixedIDs, FixedID{Event: "purchase", ID: "id-1"})
	if _, err := m.Evaluate(r); err != nil {
		t.Fatal(err)
	}
	if cap(r.arena.keys) == 0 || cap(r.arena.hashes) == 0 {
		t.Fatal("the evaluation used no arena: the test shows nothing")
	}
	r.Reset()
	for i, v := range r.arena.values[:cap(r.arena.values)] {
		if v != "" {
			t.Errorf("value %d kept after Reset: %q", i, v)
		}
	}
	for i, k := range r.arena.keys[:cap(r.arena.keys)] {
		if k.Type != "" || k.Values != nil {
			t.Errorf("key %d kept after Reset: %+v", i, k)
		}
	}
	if r.arena.parts != (eventParts{}) {
		t.Errorf("parts kept after Reset: %+v", r.arena.parts)
	}
	if r.HTTP != nil || r.Body != nil || r.RemoteIP != "" || r.Recycle || r.scan.of != 0 || len(r.FixedIDs) != 0 || r.FixedIDs[:1][0] != (FixedID{}) {
		t.Errorf("Reset left the request's fields: %+v", r)
	}
}

// Recycling is what it is for: the event's parts, keys and hashes are not
// allocated again.
func TestARecycledRequestAllocatesLess(t *testing.T) {
	m := mustCompile(t, checkoutRule())
	fresh := testing.AllocsPerRun(200, func() {
		r := *checkoutRequest(checkoutJSON)
		_, _ = m.Evaluate(&r)
	})
	reused := new(Request)
	recycled := testing.AllocsPerRun(200, func() {
		refill(reused, checkoutRequest(checkoutJSON))
		_, _ = m.Evaluate(reused)
	})
	t.Logf("allocations per request, with the request's own: fresh %v, recycled %v", fresh, recycled)
	if recycled > fresh-4 { // parts, keys, values, hashes
		t.Errorf("a recycled request allocates %v, a fresh one %v: the arena is not used", recycled, fresh)
	}
}

// Several events built from one request, as when several event blocks
// match it: each event borrows the view's memory in turn, with no Reset
// between, and shows nothing of the one before (consent, device).
func TestEventsBuiltInTurnFromOneRecycledViewKeepNothingOfTheLast(t *testing.T) {
	a := checkoutRule()
	a.ConsentUserData = "GRANTED"
	b := checkoutRule()
	b.ConsentIP = "-"
	b.ConsentTCF = "header.X-TCF"
	b.UserAgent = "-"
	ma, mb := mustCompile(t, a), mustCompile(t, b)
	fresh := checkoutRequest(checkoutJSON)
	fresh.HTTP.Header.Set("X-TCF", "TCFSTRING")
	want, err := mb.Evaluate(fresh)
	if err != nil {
		t.Fatal(err)
	}
	r := checkoutRequest(checkoutJSON)
	r.HTTP.Header.Set("X-TCF", "TCFSTRING")
	r.Recycle = true
	if _, err := ma.Evaluate(r); err != nil {
		t.Fatal(err)
	}
	got, err := mb.Evaluate(r)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonOf(got), jsonOf(want); g != w {
		t.Errorf("second event on the view\n%s\nfrom a fresh view\n%s", g, w)
	}
}

// jsonOf is an event's JSON, as the spool stores it.
func jsonOf(e amazon.Event) string {
	raw, _ := json.Marshal(&e)
	return string(raw)
}
