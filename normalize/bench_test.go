package normalize

import "testing"

// BenchmarkValue measures one typical value per key type.
func BenchmarkValue(b *testing.B) {
	for _, c := range []struct{ name, keyType, raw, country string }{
		{"EMAIL", KeyEmail, "Foo.Bar+tag@Example.COM", ""},
		{"PHONE_intl", KeyPhone, "+44 20 7946 0958", "GB"},
		{"PHONE_national", KeyPhone, "(206) 555-0100", "US"},
		{"PHONE_trunk", KeyPhone, "020 7946 0958", "GB"},
		{"PHONE_digits", KeyPhone, "12065550100", "US"},
		{"FIRST_NAME", KeyFirstName, "Jürgen", ""},
		{"LAST_NAME", KeyLastName, "O'Neil-Smith", ""},
		{"CITY", KeyCity, "San Francisco", ""},
		{"STATE", KeyState, "California", "US"},
		{"POSTAL", KeyPostal, "98101-1234", "US"},
		{"POSTAL_GB", KeyPostal, "SW1A 1AA", "GB"},
		{"ADDRESS", KeyAddress, "123 Main Street Apt 4", "US"},
		{"ADDRESS_nonASCII", KeyAddress, "Königstraße 12, 3. OG", "DE"},
	} {
		if _, err := Value(c.keyType, c.raw, c.country); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Value(c.keyType, c.raw, c.country)
			}
		})
	}
}
