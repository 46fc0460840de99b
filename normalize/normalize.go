// Package normalize normalises match-key values for Amazon Ads' Conversions API the
// way Amazon's own reference normalisers do, so that the SHA-256 of our result equals
// the hash Amazon computes for the same person.
//
// # Reference
//
// The rules are ported from the normalisers of Amazon's "Amazon Marketing Cloud
// uploader from AWS" (github.com/aws-solutions/amazon-marketing-cloud-uploader-from-aws,
// commit 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc, folder source/glue/library), called
// "the uploader" below. The uploader picks the normaliser by PII type: EMAIL, PHONE,
// CITY, STATE, ZIP (our POSTAL) and ADDRESS have their own, FIRST_NAME and LAST_NAME
// (and anything else) use the default normaliser. STATE, ZIP and ADDRESS take the
// dataset's country code, which the uploader limits to US, GB, JP, IN, IT, ES, CA, DE
// and FR.
//
// The uploader runs on Python 3; its behaviour on non-ASCII text follows Python's
// str.lower/str.upper (full case mappings, final sigma), Python's Unicode \w, \s and \d,
// and str.isnumeric. This package reproduces those (see pyunicode.go). Character
// properties come from Go's unicode package (Unicode 15.0.0); the uploader's Python
// (3.7 on AWS Glue 3.0) has an older Unicode database, so characters assigned in
// Unicode 12 to 15 can be classified differently there.
//
// # The older SDK
//
// Amazon's earlier address normaliser, github.com/amzn/amazon-ads-advertiser-audience-normalization-sdk-py
// (AddressHashing/src/AddressHash.py, commit 45142cb253bdb4bb5907d16b4aedfbd23ec3b333),
// disagrees with the uploader in these points; this package follows the uploader in
// each:
//
//   - Directional words: the uploader also maps WEST and W to W; the SDK has no entry
//     for them, so "West" stays "west" there.
//   - Delimiters: the uploader also splits on "." (and so drops every full stop); the
//     SDK keeps full stops inside tokens, so "St." is not abbreviated there ("st.").
//   - The United Kingdom: the uploader selects the UK tables with the ISO code "GB",
//     the SDK with "UK".
//   - Scope: the SDK only normalises addresses; all other key types exist only in the
//     uploader.
//
// All other tables and the address algorithm are identical in both.
//
// # Deviations from the uploader
//
//   - An empty result is an error (the uploader would hash the empty string).
//   - PHONE: numbers written without "+" are read as national numbers of the country
//     where that is the better reading, see Value; surrounding whitespace is trimmed
//     first (the uploader would turn " +1 206…" into "+ +1 206…" and reject it).
//   - Unknown countries: the uploader rejects any country other than the nine above,
//     and without a country it does not normalise at all. Here an unknown or empty
//     country gets the generic rules: no state table, 5-digit postal codes, and the
//     address tables used for DE, JP and IN.
//   - The uploader passes values that already look like a SHA-256 hex digest through
//     unchanged; this package normalises whatever it is given.
//   - PHONE uses libphonenumber's Go port (github.com/nyaruka/phonenumbers) where the
//     uploader uses whatever Python phonenumbers release was current when it was
//     deployed, so possible-length metadata can differ for some countries (Colombia,
//     Uruguay, Mexico, Nigeria among others, against phonenumbers 8.12.57). Trailing
//     characters other than letters, digits and '#' are removed before parsing, as
//     Python's phonenumbers does and the Go port fails to.
//
// Invalid UTF-8 in the input is read as U+FFFD, which Python strings cannot contain.
//
// # PHONE's fast path
//
// Most phone numbers are written plainly: ASCII digits, the separators ' ', '-', '.',
// '(', ')' and '/', and at most a leading '+'. For those, PHONE does not call
// phonenumbers.Parse, whose regular expressions for extensions, letters and free text
// cost about 10 µs, but repeats what Parse does with the digits, from the library's own
// metadata and patterns (phone_fast.go); any other input, and metadata the fast path
// does not use, goes through Parse as before. The slow path stays the definition:
// FuzzPhoneFastPathMatchesParse checks, for any input and every region the library
// knows, that whenever the fast path answers, its answer (digits or error) is the slow
// path's, and tests walk the Amazon vectors and every region's example numbers, written
// in many ways, through both.
package normalize

// Match key types accepted by Value.
const (
	KeyEmail     = "EMAIL"
	KeyPhone     = "PHONE"
	KeyFirstName = "FIRST_NAME"
	KeyLastName  = "LAST_NAME"
	KeyAddress   = "ADDRESS"
	KeyCity      = "CITY"
	KeyState     = "STATE"
	KeyPostal    = "POSTAL"
)

// Value normalises raw for the match key type as Amazon's reference normalisers do, for
// the country (ISO 3166-1 alpha-2, e.g. "US"; "" or an unknown country gets the generic
// rules; lower case is accepted). It returns an *Error when Amazon's rules reject the
// value or nothing is left of it; the caller then drops the key and must not hash "".
// Error messages never contain the value.
//
// PHONE numbers starting with "+" or "00" are international: like the uploader, the
// number is parsed with a leading "+", must be a possible number (libphonenumber), and
// is written in E.164 without the "+". Extensions are dropped. For other numbers, when
// libphonenumber knows the country, two readings are tried: the international one
// ("+" prepended, accepted only when its country calling code is the country's) and
// the national one (parsed as a number of the country, which also understands the
// country's own international call prefix and a leading country code). If only one
// is a possible number, it is used; if both are and they differ, the one that is a
// valid number wins, and the international one when both or neither are valid. If
// neither is, the international reading with any country calling code is used, as the
// uploader does. So "(206) 555-0100" (US) gives 12065550100, as do "12065550100" and
// "+1 206 555 0100"; "020 7946 0958" and "442079460958" (GB) give 442079460958.
func Value(keyType, raw, country string) (string, error) {
	country = upperCountry(country)
	switch keyType {
	case KeyEmail:
		return email(raw)
	case KeyPhone:
		return phone(raw, country)
	case KeyFirstName, KeyLastName:
		return name(raw)
	case KeyCity:
		return city(raw)
	case KeyState:
		return state(raw, country)
	case KeyPostal:
		return postal(raw, country)
	case KeyAddress:
		return address(raw, country)
	}
	return "", ErrUnsupportedKey
}

// upperCountry upper-cases a two-letter ASCII country code without allocating when it
// already is upper case.
func upperCountry(c string) string {
	if len(c) != 2 {
		return c
	}
	a, b := c[0], c[1]
	if 'a' <= a && a <= 'z' || 'a' <= b && b <= 'z' {
		return string([]byte{toUpperASCII(a), toUpperASCII(b)})
	}
	return c
}

func toUpperASCII(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

// nonEmpty returns s, or ErrEmpty when s is empty.
func nonEmpty(s string) (string, error) {
	if s == "" {
		return "", ErrEmpty
	}
	return s, nil
}
