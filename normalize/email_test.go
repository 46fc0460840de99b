package normalize

import "testing"

// Expected values below were produced by running Amazon's reference normalisers
// (amazon-marketing-cloud-uploader-from-aws, source/glue/library at commit
// 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc) under CPython 3.11.2, not by this package.
// Columns: key type, country, raw value, normalised value, rejection reason.
var emailCases = []refCase{
	{"EMAIL", "", "Foo.Bar+tag@Example.COM", "foo.bartag@example.com", ""},
	{"EMAIL", "", "  john_doe@example.com  ", "john_doe@example.com", ""},
	{"EMAIL", "", "user.name+tag@gmail.com", "user.nametag@gmail.com", ""},
	{"EMAIL", "", "\"John Smith\" <John.Smith@Example.org>", "johnsmithjohn.smith@example.org", ""},
	{"EMAIL", "", "ÉLODIE@Exemple.FR", "élodie@exemple.fr", ""},
	{"EMAIL", "", "ΣΟΦΙΑΣ@ΕΛΛΑΣ.GR", "σοφιας@ελλασ.gr", ""},
	{"EMAIL", "", "İlker@Örnek.com.tr", "ilker@örnek.com.tr", ""},
	{"EMAIL", "", "ẞTRASSE@beispiel.de", "ßtrasse@beispiel.de", ""},
	{"EMAIL", "", "名前@例え.jp", "名前@例え.jp", ""},
	{"EMAIL", "", "ＵＳＥＲ１２３@ｅｘａｍｐｌｅ.com", "ｕｓｅｒ１２３@ｅｘａｍｐｌｅ.com", ""},
	{"EMAIL", "", "a@b@c", "a@b@c", ""},
	{"EMAIL", "", "user name@exa mple.com", "username@example.com", ""},
	{"EMAIL", "", "-@-", "-@-", ""},
	{"EMAIL", "", "@example.com", "", "invalid_email"},
	{"EMAIL", "", "user@", "", "invalid_email"},
	{"EMAIL", "", "user@@example.com", "", "invalid_email"},
	{"EMAIL", "", "plainaddress", "", "invalid_email"},
	{"EMAIL", "", "a@+", "", "invalid_email"},
	{"EMAIL", "", "", "", "empty"},
	{"EMAIL", "", "  +++ ", "", "empty"},
}

func TestEmail(t *testing.T) { runCases(t, emailCases) }
