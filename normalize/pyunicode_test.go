package normalize

import "testing"

// The expected values in this file are Python 3.11's own answers.

func TestPyLower(t *testing.T) {
	for in, want := range map[string]string{
		"İ":    "i\u0307",
		"ΑΣ":   "ας",
		"ΑΣΑ":  "ασα",
		"Σ":    "σ",
		"ΑΣ.Β": "ασ.β",
		"ΑΣ'":  "ας'",
		"Σ Α":  "σ α",
		"ΑΣ1":  "ας1",
		"ΑʹΣ":  "αʹς",
		"ÀÉÎ":  "àéî",
		"ǅ":    "ǆ",
		"ABC":  "abc",
		"abc":  "abc",
	} {
		if got := pyLower(in); got != want {
			t.Errorf("pyLower(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestPyUpper(t *testing.T) {
	for in, want := range map[string]string{
		"ß":      "SS",
		"ﬁ":      "FI",
		"ŉ":      "ʼN",
		"ǅ":      "Ǆ",
		"straße": "STRASSE",
		"ᾳ":      "ΑΙ",
		"abc":    "ABC",
		"ı":      "I",
		"ſ":      "S",
	} {
		if got := pyUpper(in); got != want {
			t.Errorf("pyUpper(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestPyNumeric(t *testing.T) {
	for in, want := range map[string]bool{
		"三": true, "½": true, "²": true, "Ⅻ": true, "12": true, "1a": false,
		"": false, "٣": true, "十二": true, "１２": true,
	} {
		if got := isPyNumeric(in); got != want {
			t.Errorf("isPyNumeric(%q) = %v; want %v", in, got, want)
		}
	}
}

func TestPyClasses(t *testing.T) {
	for _, c := range []struct {
		r                    rune
		space, decimal, word bool
	}{
		{'\x1c', true, false, false},
		{'\u00a0', true, false, false},
		{'\u200b', false, false, false},
		{'\u3000', true, false, false},
		{'\u0085', true, false, false},
		{'\u2028', true, false, false},
		{'\ufeff', false, false, false},
		{'٣', false, true, true},
		{'１', false, true, true},
		{'²', false, false, true},
		{'_', false, false, true},
		{'é', false, false, true},
		{'\u0301', false, false, false},
		{'-', false, false, false},
	} {
		if isPySpace(c.r) != c.space || isPyDecimal(c.r) != c.decimal || isPyWord(c.r) != c.word {
			t.Errorf("%U: space %v decimal %v word %v; want %v %v %v", c.r,
				isPySpace(c.r), isPyDecimal(c.r), isPyWord(c.r), c.space, c.decimal, c.word)
		}
	}
	if got := pyStrip("\x1c a \u3000\u00a0"); got != "a" {
		t.Errorf("pyStrip = %q; want %q", got, "a")
	}
}
