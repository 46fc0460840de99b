package normalize

import "testing"

// Expected values below were produced by Python, not by this package: CPython 3.11.2
// with python3-phonenumbers 8.12.57, numbers starting with '+' through Amazon's
// reference PhoneNormalizer (amazon-marketing-cloud-uploader-from-aws,
// source/glue/library at commit 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc), the others
// through a Python transcription of the rule documented on Value.
// Columns: key type, country, raw value, normalised value, rejection reason.
var phoneCases = []refCase{
	{"PHONE", "US", "(206) 555-0100", "12065550100", ""},
	{"PHONE", "US", "206-555-0100 ext. 12", "12065550100", ""},
	{"PHONE", "US", "12065550100", "12065550100", ""},
	{"PHONE", "US", "+1 206 555 0100", "12065550100", ""},
	{"PHONE", "US", " +1 206 555 0100 ", "12065550100", ""},
	{"PHONE", "US", "011 44 20 7946 0958", "442079460958", ""},
	{"PHONE", "US", "1-800-FLOWERS", "18003569377", ""},
	{"PHONE", "US", "123", "", "invalid_phone"},
	{"PHONE", "CA", "416-555-0100", "14165550100", ""},
	{"PHONE", "CA", "+1 (416) 555-0100", "14165550100", ""},
	{"PHONE", "GB", "020 7946 0958", "442079460958", ""},
	{"PHONE", "GB", "442079460958", "442079460958", ""},
	{"PHONE", "GB", "+44 (0)20 7946 0958", "442079460958", ""},
	{"PHONE", "GB", "07700 900123", "447700900123", ""},
	{"PHONE", "GB", "0044 20 7946 0958", "442079460958", ""},
	{"PHONE", "DE", "030 123456", "4930123456", ""},
	{"PHONE", "DE", "+49 30 123456", "4930123456", ""},
	{"PHONE", "DE", "4930123456", "4930123456", ""},
	{"PHONE", "DE", "0151 23456789", "4915123456789", ""},
	{"PHONE", "FR", "01 23 45 67 89", "33123456789", ""},
	{"PHONE", "FR", "06 12 34 56 78", "33612345678", ""},
	{"PHONE", "FR", "0033 6 12 34 56 78", "33612345678", ""},
	{"PHONE", "IT", "06 1234 5678", "390612345678", ""},
	{"PHONE", "IT", "312 345 6789", "393123456789", ""},
	{"PHONE", "IT", "3931234567", "393931234567", ""},
	{"PHONE", "IT", "+39 06 1234 5678", "390612345678", ""},
	{"PHONE", "ES", "612 34 56 78", "34612345678", ""},
	{"PHONE", "ES", "+34 912 345 678", "34912345678", ""},
	{"PHONE", "JP", "03-1234-5678", "81312345678", ""},
	{"PHONE", "JP", "090-1234-5678", "819012345678", ""},
	{"PHONE", "JP", "010 1 206 555 0100", "12065550100", ""},
	{"PHONE", "JP", "０３－１２３４－５６７８", "81312345678", ""},
	{"PHONE", "IN", "98765 43210", "919876543210", ""},
	{"PHONE", "IN", "9198765432", "919198765432", ""},
	{"PHONE", "IN", "+91 98765 43210", "919876543210", ""},
	{"PHONE", "IN", "011 2345 6789", "911123456789", ""},
	{"PHONE", "", "12065550100", "12065550100", ""},
	{"PHONE", "", "+44 20 7946 0958", "442079460958", ""},
	{"PHONE", "", "2065550100", "2065550100", ""},
	{"PHONE", "UK", "020 7946 0958", "", "invalid_phone"},
	{"PHONE", "US", "abc", "", "invalid_phone"},
	{"PHONE", "US", "+", "", "invalid_phone"},
	{"PHONE", "DE", "0", "", "invalid_phone"},
	{"PHONE", "US", "", "", "empty"},
	{"PHONE", "GB", "   ", "", "empty"},
}

func TestPhone(t *testing.T) { runCases(t, phoneCases) }
