package normalize

import (
	"errors"
	"testing"
)

// AppendValue gives what Value gives, appended after whatever the buffer
// already held, for every key type.
func FuzzAppendValueMatchesValue(f *testing.F) {
	for _, v := range []struct{ keyType, raw, country string }{
		{KeyEmail, " Jane.Doe+Shop@Example.COM ", "US"},
		{KeyEmail, "@x", ""},
		{KeyEmail, "a@@b", ""},
		{KeyEmail, "  ", ""},
		{KeyEmail, "Ünïcode@Example.com", ""},
		{KeyPhone, "+1 206 555 0100", "US"},
		{KeyPhone, "020 7946 0958", "gb"},
		{KeyPhone, "(206) 555-0100", "US"},
		{KeyPhone, "0049 30 1234567", "DE"},
		{KeyPhone, "12", "US"},
		{KeyPhone, "+1 206 555 0100 ext. 7", "US"},
		{KeyFirstName, "Jöhn", "DE"},
		{KeyAddress, "1 Main St.", "US"},
		{"MATCH_ID", "x", ""},
	} {
		f.Add(v.keyType, v.raw, v.country, "prefix")
	}
	f.Fuzz(func(t *testing.T, keyType, raw, country, prefix string) {
		want, wantErr := Value(keyType, raw, country)
		got, err := AppendValue([]byte(prefix), keyType, raw, country)
		if !errors.Is(err, wantErr) && (err == nil || wantErr == nil || err.Error() != wantErr.Error()) {
			t.Fatalf("%s %q (%s): AppendValue error %v, Value error %v", keyType, raw, country, err, wantErr)
		}
		if wantErr != nil {
			want = ""
		}
		if string(got) != prefix+want {
			t.Fatalf("%s %q (%s): AppendValue %q, Value %q after %q", keyType, raw, country, got, want, prefix)
		}
	})
}

// An ASCII email address is normalized without allocating, into a buffer
// with room; a plainly written phone number with one allocation, its
// digits (a string of their own: no view of a reused buffer).
func TestAppendValueAllocatesLittleForTheCommonKeys(t *testing.T) {
	buf := make([]byte, 0, 64)
	for _, v := range []struct {
		keyType, raw, country string
		allocs                float64
	}{
		{KeyEmail, " Jane.Doe@Example.com ", "US", 0},
		{KeyPhone, "+1 206 555 0100", "US", 1},
		{KeyPhone, "(206) 555-0100", "US", 1},
		{KeyPhone, "+49 30 1234567", "DE", 1},
	} {
		if _, err := AppendValue(buf[:0], v.keyType, v.raw, v.country); err != nil {
			t.Fatalf("%s %q: %v", v.keyType, v.raw, err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = AppendValue(buf[:0], v.keyType, v.raw, v.country) }); n > v.allocs {
			t.Errorf("%s %q: %v allocations, want at most %v", v.keyType, v.raw, n, v.allocs)
		}
	}
}
