package mapping

import "encoding/binary"

// validJSON reports whether b is a single JSON value with only whitespace
// around it, as gjson.ValidBytes does (FuzzValidJSONMatchesGJSON holds them
// equal; the one difference is maxDepth): standard JSON, strings not
// checked for UTF-8. It
// exists for speed: a body is checked whole before any value is read from
// it, strings are most of a body's bytes (a checkout's notes, addresses,
// item names), and this reads them eight bytes at a time where gjson reads
// them one by one, so the check costs a fraction of what it did and grows
// more slowly with the body.
func validJSON(b []byte) bool {
	i, ok := validValue(b, skipSpace(b, 0), 0)
	return ok && skipSpace(b, i) == len(b)
}

// maxDepth bounds the nesting validJSON follows, where gjson has no bound:
// a body nested deeper (no shop's is) is refused, which bounds the
// recursion.
const maxDepth = 10000

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// validValue checks the value starting at b[i] (no whitespace before it)
// and returns where it ends.
func validValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxDepth {
		return i, false
	}
	switch c := b[i]; {
	case c == '{':
		return validMembers(b, i+1, depth+1)
	case c == '[':
		return validElements(b, i+1, depth+1)
	case c == '"':
		return validString(b, i+1)
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	case c == 't':
		return validWord(b, i, "true")
	case c == 'f':
		return validWord(b, i, "false")
	case c == 'n':
		return validWord(b, i, "null")
	}
	return i, false
}

func validWord(b []byte, i int, word string) (int, bool) {
	if len(b)-i >= len(word) && string(b[i:i+len(word)]) == word {
		return i + len(word), true
	}
	return i, false
}

// validMembers checks an object's members and closing brace, from just
// after its opening brace.
func validMembers(b []byte, i, depth int) (int, bool) {
	i = skipSpace(b, i)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		_, start, ok := memberKey(b, i)
		if !ok {
			return start, false
		}
		if i, ok = validValue(b, start, depth); !ok {
			return i, false
		}
		var closed bool
		if i, closed, ok = afterItem(b, i, '}'); !ok || closed {
			return i, ok
		}
	}
}

// validElements checks an array's elements and closing bracket, from just
// after its opening bracket.
func validElements(b []byte, i, depth int) (int, bool) {
	i = skipSpace(b, i)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok, closed bool
		if i, ok = validValue(b, i, depth); !ok {
			return i, false
		}
		if i, closed, ok = afterItem(b, i, ']'); !ok || closed {
			return i, ok
		}
	}
}

// memberKey checks a member's key and colon at b[i] (no whitespace before
// it) and returns the key as it is written (escapes unread) and where the
// member's value starts; on failure, value is where the check failed.
func memberKey(b []byte, i int) (key []byte, value int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	end, ok := validString(b, i+1)
	if !ok {
		return nil, end, false
	}
	key = b[i+1 : end-1]
	if end = skipSpace(b, end); end >= len(b) || b[end] != ':' {
		return nil, end, false
	}
	return key, skipSpace(b, end+1), true
}

// afterItem reads past the comma or the closing byte after a member or an
// element, and the whitespace around it; closed says it was the closing
// byte.
func afterItem(b []byte, i int, closing byte) (next int, closed, ok bool) {
	i = skipSpace(b, i)
	switch {
	case i < len(b) && b[i] == closing:
		return i + 1, true, true
	case i < len(b) && b[i] == ',':
		return skipSpace(b, i+1), false, true
	}
	return i, false, false
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWord reports whether none of the 8 bytes of w ends or escapes a
// string or is a control character: no '"', '\\' or byte below 0x20. (The
// bit tricks find a zero byte in w^'"' and w^'\\', and a byte below 0x20;
// each can only err towards "not plain", which the byte loop then settles.)
func plainWord(w uint64) bool {
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	special := (quote-ones)&^quote | (backslash-ones)&^backslash | (w-ones*0x20)&^w
	return special&highs == 0
}

// validString checks a string from just after its opening quote to just
// after its closing one.
func validString(b []byte, i int) (int, bool) {
	for {
		for i+8 <= len(b) && plainWord(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		// A special byte is within the next 8 (or the end is near).
		end := min(i+8, len(b))
		for i < end && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
			i++
		}
		switch {
		case i == end && end == len(b):
			return i, false
		case i == end:
			continue
		case b[i] == '"':
			return i + 1, true
		case b[i] < 0x20:
			return i, false
		}
		var ok bool
		if i, ok = validEscape(b, i+1); !ok {
			return i, false
		}
	}
}

// validEscape checks the escape after a backslash at b[i-1].
func validEscape(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1, true
	case 'u':
		for k := 1; k <= 4; k++ {
			if i+k >= len(b) || !isHex(b[i+k]) {
				return i, false
			}
		}
		return i + 5, true
	}
	return i, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validNumber checks a number: an optional minus, an integer part without
// leading zeros, an optional fraction and an optional exponent.
func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || !isDigit(b[i+1]) {
			return i, false
		}
		i = skipDigits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		i = skipDigits(b, i)
	}
	return i, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}
