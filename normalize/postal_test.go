package normalize

import "testing"

// Expected values below were produced by running Amazon's reference normalisers
// (amazon-marketing-cloud-uploader-from-aws, source/glue/library at commit
// 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc) under CPython 3.11.2, not by this package.
// Columns: key type, country, raw value, normalised value, rejection reason.
var postalCases = []refCase{
	{"POSTAL", "US", "98101", "98101", ""},
	{"POSTAL", "US", "98101-1234", "98101", ""},
	{"POSTAL", "US", " 02134 ", "02134", ""},
	{"POSTAL", "US", "1234", "", "invalid_postal"},
	{"POSTAL", "US", "ABCDE", "", "empty"},
	{"POSTAL", "CA", "K1A 0B1", "K1A0B1", ""},
	{"POSTAL", "CA", "k1a-0b1", "k1a0b1", ""},
	{"POSTAL", "CA", "K1A0B1X", "K1A0B1", ""},
	{"POSTAL", "CA", "K1A 0B", "", "invalid_postal"},
	{"POSTAL", "CA", "123456", "", "invalid_postal"},
	{"POSTAL", "GB", "SW1A 1AA", "SW1A1AA", ""},
	{"POSTAL", "GB", "EC1A 1BB", "EC1A1BB", ""},
	{"POSTAL", "GB", "M1 1AE", "M11AE", ""},
	{"POSTAL", "GB", "B33 8TH", "B338TH", ""},
	{"POSTAL", "GB", "DN55 1PT", "DN551PT", ""},
	{"POSTAL", "GB", "W1A 0AX", "W1A0AX", ""},
	{"POSTAL", "GB", "sw1a 1aa x", "sw1a1aa", ""},
	{"POSTAL", "GB", "12345", "", "invalid_postal"},
	{"POSTAL", "GB", "SW1A", "", "invalid_postal"},
	{"POSTAL", "DE", "10115", "10115", ""},
	{"POSTAL", "DE", "D-10115", "10115", ""},
	{"POSTAL", "DE", "1011", "", "invalid_postal"},
	{"POSTAL", "FR", "75008", "75008", ""},
	{"POSTAL", "FR", "2A004", "", "invalid_postal"},
	{"POSTAL", "FR", "F-75008 Paris", "75008", ""},
	{"POSTAL", "IT", "00144", "00144", ""},
	{"POSTAL", "IT", "I-00144", "00144", ""},
	{"POSTAL", "ES", "28013", "28013", ""},
	{"POSTAL", "ES", "E-28013", "28013", ""},
	{"POSTAL", "JP", "100-0001", "1000001", ""},
	{"POSTAL", "JP", "〒100-0001", "1000001", ""},
	{"POSTAL", "JP", "１００－０００１", "", "empty"},
	{"POSTAL", "JP", "100-001", "", "invalid_postal"},
	{"POSTAL", "IN", "110001", "110001", ""},
	{"POSTAL", "IN", "110 001", "110001", ""},
	{"POSTAL", "IN", "１１０００１", "１１０００１", ""},
	{"POSTAL", "IN", "11000", "", "invalid_postal"},
	{"POSTAL", "", "12345-678", "12345", ""},
	{"POSTAL", "NL", "1012 AB", "", "invalid_postal"},
	{"POSTAL", "US", "", "", "empty"},
}

func TestPostal(t *testing.T) { runCases(t, postalCases) }
