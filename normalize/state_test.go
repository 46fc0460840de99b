package normalize

import "testing"

// Expected values below were produced by running Amazon's reference normalisers
// (amazon-marketing-cloud-uploader-from-aws, source/glue/library at commit
// 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc) under CPython 3.11.2, not by this package.
// Columns: key type, country, raw value, normalised value, rejection reason.
var stateCases = []refCase{
	{"STATE", "US", "California", "ca", ""},
	{"STATE", "US", "new york", "ny", ""},
	{"STATE", "US", "TX", "tx", ""},
	{"STATE", "US", "Tex.", "te", ""},
	{"STATE", "US", "Washington D.C.", "wa", ""},
	{"STATE", "US", "N", "n", ""},
	{"STATE", "US", "ß", "ss", ""},
	{"STATE", "US", "ßß", "ssss", ""},
	{"STATE", "US", "12", "", "empty"},
	{"STATE", "US", "", "", "empty"},
	{"STATE", "CA", "Ontario", "on", ""},
	{"STATE", "CA", "British Columbia", "bc", ""},
	{"STATE", "CA", "Québec", "qu", ""},
	{"STATE", "CA", "QC", "qc", ""},
	{"STATE", "DE", "Bavaria", "by", ""},
	{"STATE", "DE", "Bayern", "ba", ""},
	{"STATE", "DE", "Baden-Württemberg", "ba", ""},
	{"STATE", "DE", "Baden-Wuerttemberg", "bw", ""},
	{"STATE", "FR", "Île-de-France", "le", ""},
	{"STATE", "FR", "Ile de France", "if", ""},
	{"STATE", "FR", "Corsica", "ce", ""},
	{"STATE", "ES", "Madrid", "m", ""},
	{"STATE", "ES", "A Coruña", "ac", ""},
	{"STATE", "ES", "Barcelona", "b", ""},
	{"STATE", "ES", "Gipuzkoa", "ss", ""},
	{"STATE", "IT", "Rome", "rm", ""},
	{"STATE", "IT", "Milano", "mi", ""},
	{"STATE", "IT", "Milan", "mi", ""},
	{"STATE", "IT", "Reggio Emilia", "re", ""},
	{"STATE", "GB", "Greater London", "gr", ""},
	{"STATE", "GB", "ENG", "en", ""},
	{"STATE", "JP", "Tokyo", "to", ""},
	{"STATE", "JP", "東京都", "", "empty"},
	{"STATE", "IN", "Maharashtra", "ma", ""},
	{"STATE", "IN", "MH", "mh", ""},
	{"STATE", "", "Texas", "te", ""},
	{"STATE", "NL", "Noord-Holland", "no", ""},
}

func TestState(t *testing.T) { runCases(t, stateCases) }
