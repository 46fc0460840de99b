package normalize

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// phoneTestCountries are the countries the fast path is held to the slow one for:
// every region libphonenumber knows (so every region's prefixes and patterns are
// exercised), then unknown or odd ones.
var phoneTestCountries = func() []string {
	var cs []string
	for r := range phonenumbers.GetSupportedRegions() {
		cs = append(cs, r)
	}
	slices.Sort(cs)
	return append(cs, "", "UK", "ZZ", "001", "us")
}()

// phoneShapes are plain and not-so-plain ways of writing numbers, each tried with
// every country of phoneShapeCountries and as a fuzz seed.
var phoneShapes = []string{
	"+1 206 555 0100", "(206) 555-0100", "206-555-0100", "206.555.0100", "2065550100",
	"12065550100", "1-206-555-0100", "1 (206) 555-0100", "+12065550100", "001 206 555 0100",
	"011 44 20 7946 0958", "555-0100", "5550100", "1 555 0100", "+1 555 0100",
	"020 7946 0958", "02079460958", "+44 (0)20 7946 0958", "+44 020 7946 0958", "442079460958",
	"4402079460958", "0044 20 7946 0958", "0044 (0) 20 7946 0958", "07700 900123", "+447700900123",
	"447700900123", "0800 123 4567", "1800201234", "0180020 1234", "+44 180020 1234",
	"030 123456", "+49 30 123456", "4930123456", "49030123456", "0049 151 23456789",
	"0151 23456789", "+49 (0)30 123456", "01 23 45 67 89", "06.12.34.56.78", "33612345678",
	"0033 1 42 68 53 00", "+33 (0) 6 12 34 56 78", "+39 06 1234 5678", "06 1234 5678", "390612345678",
	"+39 312 345 6789", "3931234567", "0039 06 1234 5678", "+39 0000 1234", "00 39 06 1234",
	"612 345 678", "+34 912 345 678", "0034 912 345 678", "34912345678", "91 123 45 67",
	"03-1234-5678", "090-1234-5678", "010 1 206 555 0100", "+81 3 1234 5678", "0003 1234 5678",
	"00037680 1234567", "0120-123-456", "81312345678", "98765 43210", "098765 43210",
	"919876543210", "+91 98765 43210", "011 2345 6789", "+91-11-2345-6789", "000800 1234567",
	"(11) 91234-5678", "+55 11 91234-5678", "0 15 11 91234-5678", "0xx11 91234 5678", "90 21 11 91234 5678",
	"06 12345678", "+31 20 123 4567", "0031 6 12345678", "+0 206 555 0100", "+00 44 20 7946 0958",
	"00 0 44 20", "+800 1234 5678", "+808 12345678", "+979 123456789", "+882 3 1234 5678",
	"+999 123 456", "+1", "+12", "+123", "12", "123", "1 2", "0", "00", "000", "0000", "00000",
	"+", "++1 206 555 0100", "+ 1 206 555 0100", "1+206", "(+44) 20 7946 0958", "+44 20 7946 0958 ",
	"+1 206 555 0100 ext 12", "206-555-0100 x123", "1-800-FLOWERS", "206-555-0100#", "０３－１２３４－５６７８",
	"12345678901234567890", "+1234567890123456789", "00000000000000000000", "1111111111", "999999999999999",
	"+7 495 123-45-67", "8 (495) 123-45-67", "8 10 44 20 7946 0958", "+86 10 1234 5678", "010 1234 5678",
	"+61 2 1234 5678", "0011 44 20 7946 0958", "1831 2 1234 5678", "+52 1 55 1234 5678", "044 55 1234 5678",
	"+54 9 11 1234-5678", "0 11 15 1234-5678", "+1 (416) 555-0100", "416-555-0100", "1 416 555 0100",
	"/206/555/0100/", ")(206)(555)", "- 206 - 555 - 0100 -", "2 0 6 5 5 5 0 1 0 0", "1-2-3",
}

// phoneShapeCountries are the countries every shape is tried with in the plain test.
var phoneShapeCountries = []string{"US", "CA", "GB", "DE", "FR", "IT", "ES", "JP", "IN", "BR", "NL", "AU", "MX", "RU", "AR", "CN", "KZ", "IM", "AG", "", "UK"}

// checkFastPhone fails t when the fast path takes raw for country and answers other
// than the slow path, and reports whether it took it.
func checkFastPhone(t *testing.T, raw, country string) bool {
	t.Helper()
	s := pyStrip(raw)
	if s == "" {
		return false
	}
	num, ok := fastPhone(s, country)
	if !ok {
		return false
	}
	got, gotErr := num.e164()
	want, wantErr := phoneSlow(s, country)
	if got != want || gotErr != wantErr {
		t.Errorf("phone(%q, %q): fast path %q, %v; slow path %q, %v", raw, country, got, gotErr, want, wantErr)
	}
	return true
}

// FuzzPhoneFastPathMatchesParse holds the fast path to the slow one (Parse,
// IsPossibleNumber, Format and chooseReading) for any input and country: when
// fastPhone takes an input, both must give the same digits or the same error. Each
// input is also tried made plain (every byte mapped to a digit, a separator or '+'),
// so that most of the fuzzer's inputs reach the fast path.
func FuzzPhoneFastPathMatchesParse(f *testing.F) {
	for _, v := range loadPhoneVectors(f) {
		f.Add(v.Input, countryIndexIn(phoneTestCountries, v.Country))
	}
	for _, c := range phoneCases {
		f.Add(c.raw, countryIndexIn(phoneTestCountries, c.country))
	}
	for i, s := range phoneShapes {
		f.Add(s, countryIndexIn(phoneTestCountries, phoneShapeCountries[i%len(phoneShapeCountries)]))
	}
	f.Fuzz(func(t *testing.T, raw string, country uint16) {
		cc := phoneTestCountries[int(country)%len(phoneTestCountries)]
		checkFastPhone(t, raw, cc)
		checkFastPhone(t, plainPhone(raw), cc)
	})
}

// plainPhone maps every byte of s to one of the fast path's characters, digits most.
func plainPhone(s string) string {
	const alphabet = "0123456789 -.()/+0123456789 0012"
	b := []byte(s)
	for i, c := range b {
		b[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(b)
}

func countryIndexIn(countries []string, c string) uint16 {
	if i := slices.Index(countries, c); i >= 0 {
		return uint16(i)
	}
	return uint16(slices.Index(countries, ""))
}

// phoneVector is a PHONE vector of testdata/amazon-vectors.json.
type phoneVector struct {
	Type, Country, Input string
}

func loadPhoneVectors(tb testing.TB) []phoneVector {
	tb.Helper()
	raw, err := os.ReadFile("testdata/amazon-vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var file struct{ Vectors []phoneVector }
	if err := json.Unmarshal(raw, &file); err != nil {
		tb.Fatal(err)
	}
	var phones []phoneVector
	for _, v := range file.Vectors {
		if v.Type == KeyPhone {
			phones = append(phones, v)
		}
	}
	if len(phones) < 50 {
		tb.Fatalf("%d PHONE vectors", len(phones))
	}
	return phones
}

// TestPhoneFastPathOnVectors walks every PHONE vector and test case through both
// paths, and keeps the fast path taking the plain ones.
func TestPhoneFastPathOnVectors(t *testing.T) {
	taken, total := 0, 0
	for _, v := range loadPhoneVectors(t) {
		total++
		if checkFastPhone(t, v.Input, v.Country) {
			taken++
		} else if s := pyStrip(v.Input); s != "" {
			var digits [maxPlainPhoneLen]byte
			if _, plain := plainDigits(&digits, s); plain {
				t.Errorf("fast path left out the plain vector %q (%s)", v.Input, v.Country)
			}
		}
	}
	for _, c := range phoneCases {
		checkFastPhone(t, c.raw, c.country)
	}
	t.Logf("fast path took %d of %d PHONE vectors", taken, total)
}

// TestPhoneFastPathOnShapes tries every shape with many countries, and every
// region's example numbers written in its national, international and E.164 forms
// and with the prefixes people add, in their own region and in another one.
func TestPhoneFastPathOnShapes(t *testing.T) {
	for _, s := range phoneShapes {
		for _, c := range phoneShapeCountries {
			checkFastPhone(t, s, c)
		}
	}
	taken, total := 0, 0
	for i, region := range phoneTestCountries {
		for j, s := range exampleShapes(region) {
			other := phoneShapeCountries[(i+j)%len(phoneShapeCountries)]
			for _, c := range []string{region, other} {
				total++
				if checkFastPhone(t, s, c) {
					taken++
				}
			}
		}
	}
	t.Logf("fast path took %d of %d example-number inputs", taken, total)
}

// exampleShapes writes the region's example numbers in the ways people write them.
func exampleShapes(region string) []string {
	var shapes []string
	for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE} {
		num := phonenumbers.GetExampleNumberForType(region, typ)
		if num == nil {
			continue
		}
		nat := phonenumbers.Format(num, phonenumbers.NATIONAL)
		intl := phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
		e164 := phonenumbers.Format(num, phonenumbers.E164)
		digits := strings.TrimPrefix(e164, "+")
		nsn := phonenumbers.GetNationalSignificantNumber(num)
		shapes = append(shapes, nat, intl, e164, digits, nsn, "0"+nsn, "00"+digits, "+"+digits+"0",
			digits[:len(digits)-1], strings.Replace(intl, " ", " (0)", 1), "1"+nsn, "011"+digits)
	}
	return shapes
}

// TestDigitPatternFirstDigits checks the first digits computed for some patterns,
// and that for every pattern of the metadata a string whose start the pattern
// matches always passes mayStart (the filter may only skip regexps that fail).
func TestDigitPatternFirstDigits(t *testing.T) {
	for _, c := range []struct {
		expr  string
		first uint16
	}{
		{"^(?:0|180020)", 1<<0 | 1<<1},
		{"^(?:(183[12])|0)", 1<<0 | 1<<1},
		{"^(?:1)", 1 << 1},
		{"00(?:1[245]|2[1-35]|31)", 1 << 0},
		{"^(?:[2-9]\\d{9}|3\\d{6})$", allDigits &^ (1<<0 | 1<<1)},
		{"", allDigits},
		{"^(?:(?:0|90)(?:(1[245])(\\d{10,11}))?)", 1<<0 | 1<<9},
		{"^(?:0?)", allDigits},
		{"x", 0},
	} {
		p, ok := compileDigitPattern(c.expr)
		if !ok || p.first != c.first {
			t.Errorf("compileDigitPattern(%q) = %010b, %v; want %010b", c.expr, p.first, ok, c.first)
		}
	}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]bool{}
	for _, m := range coll.GetMetadata() {
		exprs[m.GetInternationalPrefix()] = true
		exprs["^(?:"+m.GetNationalPrefixForParsing()+")"] = true
		exprs["^(?:"+m.GetGeneralDesc().GetNationalNumberPattern()+")$"] = true
	}
	inputs := digitStrings()
	for expr := range exprs {
		p, ok := compileDigitPattern(expr)
		if !ok {
			t.Errorf("%q does not compile", expr)
			continue
		}
		for _, s := range inputs {
			if p.mayStart(s) {
				continue
			}
			if loc := p.re.FindStringIndex(s); loc != nil && loc[0] == 0 {
				t.Errorf("%q matches %q but mayStart says no", expr, s)
			}
		}
	}
}

// digitStrings returns digit strings of many lengths and starts, and every region's
// example numbers with and without their calling code.
func digitStrings() []string {
	ss := []string{""}
	for d := range 10 {
		for n := 1; n <= 18; n++ {
			ss = append(ss, strings.Repeat(string(rune('0'+d)), n), string(rune('0'+d))+strings.Repeat("1234567890", 2)[:n-1])
		}
	}
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE} {
			if num := phonenumbers.GetExampleNumberForType(region, typ); num != nil {
				nsn := phonenumbers.GetNationalSignificantNumber(num)
				e164 := strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
				ss = append(ss, nsn, e164, "0"+nsn, "00"+e164, "011"+e164, "8"+nsn)
			}
		}
	}
	return ss
}

// TestParsedPhoneNumber checks that the PhoneNumber built for a reading has the
// reading's national significant number, leading zeros included, as Parse's has.
func TestParsedPhoneNumber(t *testing.T) {
	for _, nsn := range []string{"0", "5", "00", "05", "000", "0012", "0000000", "2079460958", "0612345678", "00012345678901234"} {
		p := parsed{cc: 39, nsn: nsn}
		num := p.phoneNumber()
		if got := phonenumbers.GetNationalSignificantNumber(num); got != nsn || num.GetCountryCode() != 39 {
			t.Errorf("phoneNumber(%q) has NSN %q, cc %d", nsn, got, num.GetCountryCode())
		}
		want, err := phonenumbers.Parse("+39"+nsn, "")
		if err != nil {
			continue
		}
		if want.GetItalianLeadingZero() != num.GetItalianLeadingZero() || want.GetNumberOfLeadingZeros() != num.GetNumberOfLeadingZeros() ||
			want.GetNationalNumber() != num.GetNationalNumber() {
			t.Errorf("phoneNumber(%q) = %v; Parse gives %v", nsn, num, want)
		}
	}
}

// BenchmarkPhoneSlow measures the slow path on BenchmarkValue's phone numbers, for
// comparison with the fast path there.
func BenchmarkPhoneSlow(b *testing.B) {
	for _, c := range []struct{ name, raw, country string }{
		{"intl", "+44 20 7946 0958", "GB"},
		{"national", "(206) 555-0100", "US"},
		{"trunk", "020 7946 0958", "GB"},
		{"digits", "12065550100", "US"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = phoneSlow(c.raw, c.country)
			}
		})
	}
}
