package mapping

import (
	"strings"
	"testing"
)

// Expected hashes were computed independently (Python's hashlib) from the
// normalized strings.
func TestMatchKeyValueHashesNormalizedPII(t *testing.T) {
	cases := []struct{ keyType, raw, normalized, want string }{
		{"EMAIL", "  John.Doe+Shop@Example.COM ", "john.doeshop@example.com", "094c3631869983a314789218efa658a0e99540c5f64aa919df6d8026392263d8"},
		{"EMAIL", "jane_doe@example.co.uk", "janedoe@example.co.uk", "549c18ccc45caf1ad3a0376b927444d03c9e7e9fbe8427c909aa4f87d99ba048"},
		{"EMAIL", "ÄNNE@exämple.com", "nne@exmple.com", "eaedade2d730932077aeccbadddd5e85d7afa6b07e23852c4ce1ad5443c788dc"},
		{"PHONE", "+1 (206) 555-0100", "12065550100", "0000fd214ade3cd6a790d9a949f519b17b7c993625dd4782e14166523c66d415"},
		{"PHONE", "0044 20 7946 0958", "442079460958", "35e206e5dec4c89b9e8b71b8c32724a5bb518483ac5a20c6617d738375b3b823"},
		{"PHONE", "206.555.0100", "2065550100", "c012269300983364c93385b59db4ac571f090bd8a272365c86a13f303b31e4e6"},
		{"FIRST_NAME", "  Mary-Jane ", "maryjane", "f08f448a5e7a9dc3619bb7c129f6a7d5fc6af002cea17ad71dfdc1c68f4d4e0e"},
		{"LAST_NAME", "O'Brien", "obrien", "b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba"},
		{"ADDRESS", "221B Baker St.", "221bbakerst", "d29bb9bed183e647bd6f66127de9d60c45a5f9b48ecb508f44531e0422352cd2"},
		{"CITY", "New York", "newyork", "350c754ba4d38897693aa077ef43072a859d23f613443133fecbbd90a3512ca5"},
		{"STATE", "CA", "ca", "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126"},
		{"POSTAL", " SW1A 1AA ", "sw1a1aa", "830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614"},
		{"POSTAL", "98101-1234", "98101-1234", "130985716af3288950b19cff377b805a026268a5aa70ffc57cf9d6d5c3a210aa"},
	}
	for _, c := range cases {
		t.Run(c.keyType+"/"+c.raw, func(t *testing.T) {
			if got := hashedKeyTypes[c.keyType](c.raw); got != c.normalized {
				t.Errorf("normalized %q = %q, want %q", c.raw, got, c.normalized)
			}
			got, err := MatchKeyValue(c.keyType, c.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("MatchKeyValue(%s, %q) = %s, want %s", c.keyType, c.raw, got, c.want)
			}
		})
	}
}

func TestMatchKeyValuePassesHashesThrough(t *testing.T) {
	lower := "094c3631869983a314789218efa658a0e99540c5f64aa919df6d8026392263d8"
	for _, keyType := range []string{"EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "CITY", "STATE", "POSTAL"} {
		for _, in := range []string{lower, strings.ToUpper(lower), " " + lower + " "} {
			got, err := MatchKeyValue(keyType, in)
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
		got, err := MatchKeyValue(c.keyType, c.in)
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
		_, err := MatchKeyValue(c.keyType, c.in)
		if err == nil {
			t.Errorf("%s %q: accepted, want an error", c.keyType, c.in)
			continue
		}
		if trimmed := strings.TrimSpace(c.in); trimmed != "" && strings.Contains(err.Error(), trimmed) {
			t.Errorf("%s: error %q quotes the value", c.keyType, err)
		}
	}
}

// The one-pass normalizations agree with lowercasing first and filtering
// after, for any input (invalid UTF-8 and non-ASCII letters included).
func FuzzNormalizeIsLowerThenKeep(f *testing.F) {
	for _, s := range []string{" Jane.Doe+Shop@Example.COM ", "İSTANBUL", "Ǆemal", "\xff\xfeA", "SW1A 1AA", "Ünïcödé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		emailKeep := func(r rune) bool { return isLowerAlnum(r) || r == '.' || r == '@' || r == '-' }
		if got, want := NormalizeEmail(s), keepOnly(strings.ToLower(strings.TrimSpace(s)), emailKeep); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", s, got, want)
		}
		if got, want := NormalizeName(s), keepOnly(strings.ToLower(s), isLowerAlnum); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", s, got, want)
		}
		if got, want := sha256Hex(s), referenceSHA256(s); got != want {
			t.Errorf("sha256Hex(%q) = %s, want %s", s, got, want)
		}
	})
}
