package mapping

import (
	"strings"
	"testing"
)

func TestMatchKeyValuePassesHashesThrough(t *testing.T) {
	lower := "094c3631869983a314789218efa658a0e99540c5f64aa919df6d8026392263d8"
	for _, keyType := range []string{"EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "CITY", "STATE", "POSTAL"} {
		for _, in := range []string{lower, strings.ToUpper(lower), " " + lower + " "} {
			got, err := MatchKeyValue(keyType, in, "US")
			if err != nil || got != lower {
				t.Errorf("%s %q: got %q, %v; want the lowercase hash unchanged", keyType, in, got, err)
			}
		}
	}
}

func TestMatchKeyValueSendsRawTypesRaw(t *testing.T) {
	cases := []struct{ keyType, in, want string }{
		{"FIP", "203.0.113.7", "203.0.113.7"},
		{"FIP", " 2001:DB8::1 ", "2001:db8::1"},
		{"FIP", "::ffff:203.0.113.7", "203.0.113.7"},
		{"MAID", "6D92078A-8246-4BA4-AE5B-76104861E7DC", "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
		{"RAMP_ID", "XY1005wXyWPB1SgpMUKIpzA0I3UaLEz-2lg0wFAr1PWK7FMhss", "XY1005wXyWPB1SgpMUKIpzA0I3UaLEz-2lg0wFAr1PWK7FMhss"},
		{"MATCH_ID", "customer-42", "customer-42"},
		{"REAL_ID", "AXM123", "AXM123"},
		{"MERKLE_ID", "MKL123", "MKL123"},
		{"KANTAR_ID", "KAN123", "KAN123"},
	}
	for _, c := range cases {
		got, err := MatchKeyValue(c.keyType, c.in, "US")
		if err != nil || got != c.want {
			t.Errorf("%s %q: got %q, %v; want %q", c.keyType, c.in, got, err, c.want)
		}
	}
}

func TestMatchKeyValueRejectsBadValuesWithoutQuotingThem(t *testing.T) {
	cases := []struct{ keyType, in string }{
		{"FIP", "not-an-ip"},
		{"FIP", "203.0.113"},
		{"MATCH_ID", strings.Repeat("x", 101)},
		{"EMAIL", "   "},
		{"PHONE", "call me"},
		{"FIRST_NAME", "---"},
	}
	for _, c := range cases {
		_, err := MatchKeyValue(c.keyType, c.in, "US")
		if err == nil {
			t.Errorf("%s %q: accepted, want an error", c.keyType, c.in)
			continue
		}
		if trimmed := strings.TrimSpace(c.in); trimmed != "" && strings.Contains(err.Error(), trimmed) {
			t.Errorf("%s: error %q quotes the value", c.keyType, err)
		}
	}
}
