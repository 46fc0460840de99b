package mapping

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestFormatEventTimeIsTheLayoutsOwnFormatting(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 11, 25, 6, 5, 4, 3_999_999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 2, 30, 0, 0, time.FixedZone("+0530", 5*3600+1800)),
	}
	for range 100_000 {
		times = append(times, time.Unix(0, rand.Int64N(1<<62)).In(time.FixedZone("x", rand.IntN(50_000)-25_000)))
	}
	for _, tm := range times {
		if got, want := formatEventTime(tm), tm.UTC().Format(TimeFormat); got != want {
			t.Fatalf("%v: got %s, want %s", tm, got, want)
		}
	}
}
