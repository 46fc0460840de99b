package mapping

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// MaxNesting is how deeply a JSON body may nest objects and arrays. No
// shop's checkout nests more than a few levels; gjson's validator recurses
// once per level, so a body of 64 KiB of '[' would otherwise take
// megabytes of stack on each request that sends it. A body nested deeper
// is not JSON to the mapping (its body paths have no value).
const MaxNesting = 512

// validJSON reports whether b is a single JSON value nested no deeper than
// MaxNesting, as gjson.ValidBytes checks it.
func validJSON(b []byte) bool {
	return nestedWithin(b, MaxNesting) && gjson.ValidBytes(b)
}

// nestedWithin reports whether the brackets of b (outside strings) nest no
// deeper than limit. It bounds gjson's recursion and does not check JSON:
// most bodies have fewer brackets than limit in all, which two
// vectorised counts tell; only the others are walked.
func nestedWithin(b []byte, limit int) bool {
	if bytes.Count(b, []byte{'{'})+bytes.Count(b, []byte{'['}) <= limit {
		return true
	}
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > limit {
				return false
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return true
}

// bodyIsJSON reports whether the request body is JSON (see validJSON),
// checked once per request.
func (r *Request) bodyIsJSON() bool {
	if r.validBody == 0 {
		r.validBody = -1
		if validJSON(r.Body) {
			r.validBody = 1
		}
	}
	return r.validBody == 1
}
