package normalize

import (
	"strings"
	"unicode/utf8"
)

// address follows the uploader's address normaliser (address_normalizer.py):
//
//  1. Strip surrounding whitespace and upper-case (Python's str.strip and str.upper).
//  2. Cut into tokens at the delimiters, which are dropped: commas, "C/O" between word
//     boundaries, '!', brackets ([{ and }]), whitespace and full stops.
//  3. Dash rule: a token "<numeric>-<not numeric>" (at its last '-') becomes two tokens.
//  4. Pound rule: a token with '#' is rebuilt from the matches of ([A-Z]*)#([0-9A-Z-/]*).
//  5. Replace every token found in the country's word tables.
//  6. Join the tokens without separator and lower-case (Python's str.lower).
//
// Quirks of the reference kept because the hash must equal Amazon's:
//   - Steps 3 and 4 loop over the token count taken before they split anything, so
//     tokens pushed past that count are not split: "12-A 34-B" gives "12a34-b".
//   - The pound rule replaces the whole token by the pieces of its matches, so text
//     outside them is lost ("12#3" gives "number3"), and a second match in one token
//     replaces the last piece of the first ("A#1#2" gives "anumbernumber2").
//   - '#' alone becomes NUMBER through the number-indicator table.
//   - Table words with a full stop ("P.ZZA", "AV.", "INC.") can never match, since '.'
//     is a delimiter.
//   - Tokens keep every character that is not a delimiter ("O'Neil" gives "o'neil";
//     '-', '/', '#' and non-ASCII letters stay).
//   - str.isnumeric in the dash rule accepts any Unicode number and CJK numerals
//     ("三-A" gives "三a").
func address(raw, country string) (string, error) {
	s := pyUpper(pyStrip(raw))
	var arr [16]string
	toks := tokenize(s, arr[:0])
	toks = splitDashes(toks)
	toks = splitPounds(toks)
	words := addressWords(country)
	for i, t := range toks {
		if v, ok := words[t]; ok {
			toks[i] = v
		}
	}
	return nonEmpty(joinLower(toks))
}

// tokenize appends to toks the non-empty pieces of s between delimiters.
func tokenize(s string, toks []string) []string {
	start := 0
	for i := 0; i < len(s); {
		if isCareOf(s, i) {
			toks = appendToken(toks, s[start:i])
			i += len("C/O")
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isAddressDelimiter(r) {
			toks = appendToken(toks, s[start:i])
			start = i + n
		}
		i += n
	}
	return appendToken(toks, s[start:])
}

func appendToken(toks []string, t string) []string {
	if t == "" {
		return toks
	}
	return append(toks, t)
}

// isAddressDelimiter reports whether r is one of the single-rune delimiters: comma,
// '!', brackets, Python whitespace (\s) and '.'.
func isAddressDelimiter(r rune) bool {
	switch r {
	case ',', '!', '[', '{', '(', ']', '}', ')', '.':
		return true
	}
	return isPySpace(r)
}

// isCareOf reports whether \bC/O\b matches at byte offset i of the upper-cased s, with
// Python's Unicode \w deciding the word boundaries.
func isCareOf(s string, i int) bool {
	if !strings.HasPrefix(s[i:], "C/O") {
		return false
	}
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isPyWord(r) {
			return false
		}
	}
	if j := i + len("C/O"); j < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j:]); isPyWord(r) {
			return false
		}
	}
	return true
}

// splitDashes applies the dash rule to the tokens present when it starts.
func splitDashes(toks []string) []string {
	n := len(toks)
	for i := 0; i < n; i++ {
		w := toks[i]
		d := strings.LastIndexByte(w, '-')
		if d > 0 && d < len(w)-1 && isPyNumeric(w[:d]) && !isPyNumeric(w[d+1:]) {
			toks = replaceToken(toks, i, w[:d], w[d+1:])
		}
	}
	return toks
}

// splitPounds applies the pound rule to the tokens present when it starts. Each match
// of ([A-Z]*)#([0-9A-Z-/]*) in the original token replaces the token at the current
// position by its pieces; the position then moves to the last piece, which a further
// match replaces in turn.
func splitPounds(toks []string) []string {
	n := len(toks)
	for i := 0; i < n; i++ {
		w := toks[i]
		at := i
		for p := 0; ; {
			pre, num, end, ok := nextPound(w, p)
			if !ok {
				break
			}
			p = end
			switch {
			case pre == "" && num == "":
			case pre == "":
				toks = replaceToken(toks, at, "#", num)
				at++
			case num == "":
				toks = replaceToken(toks, at, pre, "#")
				at++
			default:
				toks = replaceToken(toks, at, pre, "#", num)
				at += 2
			}
		}
	}
	return toks
}

// nextPound finds the leftmost match of ([A-Z]*)#([0-9A-Z-/]*) in w at or after byte
// p, returning its groups and where it ends.
func nextPound(w string, p int) (pre, num string, end int, ok bool) {
	h := strings.IndexByte(w[p:], '#')
	if h < 0 {
		return "", "", 0, false
	}
	h += p
	s := h
	for s > p && 'A' <= w[s-1] && w[s-1] <= 'Z' {
		s--
	}
	e := h + 1
	for e < len(w) && isPoundTail(w[e]) {
		e++
	}
	return w[s:h], w[h+1 : e], e, true
}

// isPoundTail reports whether c is in [0-9A-Z-/].
func isPoundTail(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == '-' || c == '/'
}

// replaceToken replaces toks[i] by parts, like the reference's pop and inserts.
func replaceToken(toks []string, i int, parts ...string) []string {
	extra := len(parts) - 1
	for k := 0; k < extra; k++ {
		toks = append(toks, "")
	}
	copy(toks[i+len(parts):], toks[i+1:len(toks)-extra])
	copy(toks[i:], parts)
	return toks
}

// joinLower joins the tokens and lower-cases the result like Python's str.lower.
func joinLower(toks []string) string {
	n, ascii := 0, true
	for _, t := range toks {
		n += len(t)
		ascii = ascii && isASCII(t)
	}
	if !ascii {
		return pyLower(strings.Join(toks, ""))
	}
	var b strings.Builder
	b.Grow(n)
	for _, t := range toks {
		for j := 0; j < len(t); j++ {
			c := t[j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}
