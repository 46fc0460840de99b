package normalize

import "testing"

// Expected values below were produced by running Amazon's reference normalisers
// (amazon-marketing-cloud-uploader-from-aws, source/glue/library at commit
// 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc) under CPython 3.11.2, not by this package.
// Columns: key type, country, raw value, normalised value, rejection reason.
var addressCases = []refCase{
	{"ADDRESS", "US", "123 Main Street Apt 4", "123mainstapt4", ""},
	{"ADDRESS", "US", "1600 Pennsylvania Avenue NW", "1600pennsylvaniaavenw", ""},
	{"ADDRESS", "US", "500 West 2nd St., Suite #12", "500w2ndststenumber12", ""},
	{"ADDRESS", "US", "12-A Oak Rd", "12aoakrd", ""},
	{"ADDRESS", "US", "C/O John Smith, 1 Elm Ct", "johnsmith1elmct", ""},
	{"ADDRESS", "US", "#5 North Blvd", "number5nblvd", ""},
	{"ADDRESS", "US", "12#3 Broadway", "number3broadway", ""},
	{"ADDRESS", "US", "A#1#2 X", "anumbernumber2x", ""},
	{"ADDRESS", "US", "12-A 34-B Elm", "12a34belm", ""},
	{"ADDRESS", "US", "P.O. Box 123", "pobox123", ""},
	{"ADDRESS", "US", "  100 e. main st. (rear) !  ", "100emainstrear", ""},
	{"ADDRESS", "GB", "10 Downing Street", "10downingst", ""},
	{"ADDRESS", "GB", "Flat 3, 221B Baker Street", "flat3221bbakerst", ""},
	{"ADDRESS", "GB", "Unit 2 Acme Ltd. Mill Lane", "unit2acmeltdmillln", ""},
	{"ADDRESS", "CA", "123 Rue Sainte-Catherine O", "123ruesainte-catherineo", ""},
	{"ADDRESS", "CA", "1 Yonge Street Suite 1801", "1yongestsuite1801", ""},
	{"ADDRESS", "FR", "12 Rue de la Paix", "12ruedelapaix", ""},
	{"ADDRESS", "FR", "5 Allée des Roses", "5alléedesroses", ""},
	{"ADDRESS", "FR", "3 bis Avenue Foch", "3bisavefoch", ""},
	{"ADDRESS", "FR", "Lieu-dit Les Granges", "lieu-ditlesgranges", ""},
	{"ADDRESS", "DE", "Königstraße 12", "königstrasse12", ""},
	{"ADDRESS", "DE", "Berliner Str. 5", "berlinerst5", ""},
	{"ADDRESS", "DE", "Hauptstr. 5a", "hauptstr5a", ""},
	{"ADDRESS", "IT", "Via Roma 1", "viaroma1", ""},
	{"ADDRESS", "IT", "P.zza Garibaldi 3", "pzzagaribaldi3", ""},
	{"ADDRESS", "IT", "V.le Europa 10", "vleeuropa10", ""},
	{"ADDRESS", "ES", "C/ Mayor 5, 3º B", "callemayor53ºb", ""},
	{"ADDRESS", "ES", "Avenida de la Constitución 10", "avenidadelaconstitución10", ""},
	{"ADDRESS", "ES", "Av. Diagonal 640", "avdiagonal640", ""},
	{"ADDRESS", "ES", "Calle Núm. 7", "callenumber7", ""},
	{"ADDRESS", "JP", "東京都千代田区千代田1-1", "東京都千代田区千代田1-1", ""},
	{"ADDRESS", "JP", "1-2-3 Shibuya", "1-2-3shibuya", ""},
	{"ADDRESS", "JP", "三-A 五", "三a五", ""},
	{"ADDRESS", "JP", "１２３ Ｍａｉｎ Ｓｔ", "１２３ｍａｉｎｓｔ", ""},
	{"ADDRESS", "IN", "12 MG Road, Bangalore", "12mgrdbangalore", ""},
	{"ADDRESS", "IN", "Flat No. 4, Sector-15", "flatnumber4sector-15", ""},
	{"ADDRESS", "NL", "Damrak 1", "damrak1", ""},
	{"ADDRESS", "", "West Avenue 9", "wave9", ""},
	{"ADDRESS", "US", "ΟΔΟΣ ΑΘΗΝΑΣ 5", "οδοσαθηνας5", ""},
	{"ADDRESS", "US", "   ", "", "empty"},
	{"ADDRESS", "US", ". , !", "", "empty"},
}

func TestAddress(t *testing.T) { runCases(t, addressCases) }
