package mapping

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

// recycleBodies are checkouts that differ in every value the event points
// to: keys present or not, hashes, consent, device, value.
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

// refill resets r and makes it the view of src's request, as the module
// does with its pooled views.
func refill(r, src *Request) {
	r.Reset()
	r.HTTP, r.Body, r.RemoteIP, r.Arrived = src.HTTP, src.Body, src.RemoteIP, src.Arrived
}

// A request view reused from one request to the next (Reset) builds, for
// each, the event a fresh view builds: nothing of the last request shows.
func TestAReusedViewBuildsTheSameEventsAsAFreshOne(t *testing.T) {
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

// Reset keeps nothing of the request: the view reads as new.
func TestResetKeepsNothingOfTheRequest(t *testing.T) {
	m := mustCompile(t, checkoutRule())
	r := checkoutRequest(checkoutJSON)
	r.FixedIDs = append(r.FixedIDs, FixedID{Event: "purchase", ID: "X"})
	if _, err := m.Evaluate(r); err != nil {
		t.Fatal(err)
	}
	r.Reset()
	if r.HTTP != nil || r.Body != nil || r.RemoteIP != "" || r.dupsOf != 0 || len(r.FixedIDs) != 0 || r.text != "" || r.textIsBody {
		t.Errorf("Reset kept %+v", r)
	}
}

// Several events built from one request, as when several event blocks
// match it, with no Reset between: each shows nothing of the one before
// (consent, device).
func TestEventsBuiltInTurnFromOneViewKeepNothingOfTheLast(t *testing.T) {
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
