package normalize

import "unicode/utf8"

// stateAbbrev maps, by country, the letters of a state name to its lower-case
// abbreviation.
var stateAbbrev = lowerValues(stateTables)

func lowerValues(tables map[string]map[string]string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(tables))
	for country, t := range tables {
		m := make(map[string]string, len(t))
		for k, v := range t {
			m[k] = asciiLower(v)
		}
		out[country] = m
	}
	return out
}

// state follows the uploader's state normaliser: upper-case (Python's str.upper, so "ß"
// gives "SS"), keep only A-Z, look the letters up in the country's table (US, FR, CA,
// DE, ES, IT; other countries have none), and otherwise keep the first two letters when
// the raw value, not the letters, is longer than two runes. The result is lower case.
// Quirks kept: "Baden-Württemberg" gives "ba" (Ü is dropped, the table spells it UE);
// a raw value of at most two runes keeps all its letters ("ßß" gives "ssss").
func state(raw, country string) (string, error) {
	var buf [64]byte
	letters := upperLetters(raw, buf[:0])
	if abbr, ok := stateAbbrev[country][string(letters)]; ok {
		return abbr, nil
	}
	if utf8.RuneCountInString(raw) > 2 && len(letters) > 2 {
		letters = letters[:2]
	}
	for i, c := range letters {
		letters[i] = c + 'a' - 'A'
	}
	return nonEmpty(string(letters))
}

// upperLetters appends to b the A-Z letters of Python's str.upper of raw.
func upperLetters(raw string, b []byte) []byte {
	for _, r := range raw {
		if r < utf8.RuneSelf {
			if c := toUpperASCII(byte(r)); 'A' <= c && c <= 'Z' {
				b = append(b, c)
			}
			continue
		}
		if sp, ok := upperSpecial[r]; ok {
			for i := 0; i < len(sp); i++ {
				if 'A' <= sp[i] && sp[i] <= 'Z' {
					b = append(b, sp[i])
				}
			}
			continue
		}
		if u := upperRune(r); 'A' <= u && u <= 'Z' {
			b = append(b, byte(u))
		}
	}
	return b
}
