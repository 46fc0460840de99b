package normalize

import "unicode/utf8"

// name follows the uploader's default normaliser, used for FIRST_NAME and LAST_NAME:
// lower-case (Python's str.lower), spell out ß, ä, ö, ü, ø and æ as ss, ae, oe, ue, o
// and ae, then keep only a-z and 0-9. Other accented letters are dropped, not
// transliterated ("José" gives "jos"), and so are decomposed accents' marks ("u"
// followed by U+0308 gives "u").
func name(raw string) (string, error) {
	return lowerKeep(raw, true)
}

// city follows the uploader's city normaliser: lower-case (Python's str.lower), then
// keep only a-z and 0-9. Unlike names, nothing is spelt out: "München" gives "mnchen".
func city(raw string) (string, error) {
	return lowerKeep(raw, false)
}

// lowerKeep lower-cases raw like Python and keeps the ASCII letters and digits of the
// result; with spell it first spells out the German and Nordic letters like the
// default normaliser does.
func lowerKeep(raw string, spell bool) (string, error) {
	if done, ok := alreadyLowerAlnum(raw); ok {
		return nonEmpty(done)
	}
	b := make([]byte, 0, len(raw))
	for _, r := range raw {
		if r == capitalIWithDot {
			// Python lowers 'İ' to "i" + U+0307; the mark is dropped.
			b = append(b, 'i')
			continue
		}
		l := lowerRune(r)
		if spell {
			if sp := spelling(l); sp != "" {
				b = append(b, sp...)
				continue
			}
		}
		if isLowerAlnum(l) {
			b = append(b, byte(l))
		}
	}
	return nonEmpty(string(b))
}

// alreadyLowerAlnum returns raw when it is made of a-z and 0-9 only.
func alreadyLowerAlnum(raw string) (string, bool) {
	for i := 0; i < len(raw); i++ {
		if !isLowerAlnum(rune(raw[i])) {
			return "", false
		}
	}
	return raw, true
}

func isLowerAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || '0' <= r && r <= '9'
}

// spelling returns how the default normaliser spells out the lower-case letter r, or ""
// for letters it leaves alone.
func spelling(r rune) string {
	if r < utf8.RuneSelf {
		return ""
	}
	switch r {
	case 'ß':
		return "ss"
	case 'ä', 'æ':
		return "ae"
	case 'ö':
		return "oe"
	case 'ü':
		return "ue"
	case 'ø':
		return "o"
	}
	return ""
}
