package normalize

import "testing"

// Expected values below were produced by running Amazon's reference normalisers
// (amazon-marketing-cloud-uploader-from-aws, source/glue/library at commit
// 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc) under CPython 3.11.2, not by this package.
// Columns: key type, country, raw value, normalised value, rejection reason.
var nameCases = []refCase{
	{"FIRST_NAME", "", "John", "john", ""},
	{"FIRST_NAME", "", "  Mary-Jane ", "maryjane", ""},
	{"LAST_NAME", "", "O'Neil", "oneil", ""},
	{"LAST_NAME", "", "Müller", "mueller", ""},
	{"LAST_NAME", "", "Mu\u0308ller", "muller", ""},
	{"FIRST_NAME", "", "Jörg", "joerg", ""},
	{"LAST_NAME", "", "Strauß", "strauss", ""},
	{"LAST_NAME", "", "STRAẞE", "strasse", ""},
	{"FIRST_NAME", "", "Björn Ødegård", "bjoernodegrd", ""},
	{"FIRST_NAME", "", "Ægir", "aegir", ""},
	{"FIRST_NAME", "", "José", "jos", ""},
	{"FIRST_NAME", "", "Zoë", "zo", ""},
	{"FIRST_NAME", "", "İbrahim", "ibrahim", ""},
	{"FIRST_NAME", "", "\u212Aate", "kate", ""},
	{"LAST_NAME", "", "Núñez García", "nezgarca", ""},
	{"LAST_NAME", "", "van der Berg 3rd", "vanderberg3rd", ""},
	{"LAST_NAME", "", "王", "", "empty"},
	{"FIRST_NAME", "", "", "", "empty"},
	{"FIRST_NAME", "", "  -- ", "", "empty"},
	{"CITY", "", "New York", "newyork", ""},
	{"CITY", "", "München", "mnchen", ""},
	{"CITY", "", "São Paulo", "sopaulo", ""},
	{"CITY", "", "St. John's", "stjohns", ""},
	{"CITY", "", "İstanbul", "istanbul", ""},
	{"CITY", "", "Zürich", "zrich", ""},
	{"CITY", "", "Saint-Étienne", "sainttienne", ""},
	{"CITY", "", "FRANKFURT AM MAIN", "frankfurtammain", ""},
	{"CITY", "", "Winston-Salem 27101", "winstonsalem27101", ""},
	{"CITY", "", "Łódź", "d", ""},
	{"CITY", "", "東京", "", "empty"},
	{"CITY", "", "", "", "empty"},
	{"CITY", "", "   ", "", "empty"},
}

func TestNameAndCity(t *testing.T) { runCases(t, nameCases) }
