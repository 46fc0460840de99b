package mapping

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// bodyScan is what one pass over a request body found for one mapping: the
// body's kind, where the value of each of its plain body paths is (by
// slot) and the total of each of its sums (by sum index). It holds no
// pointer into the body, so filling it costs no write barrier.
type bodyScan struct {
	of uint64 // the mapping's id; 0 before any pass
	// kind is '{' or '[' for an object or array body, 0 for a single
	// value (where gjson's own reading of a path applies) or an invalid one.
	kind   byte
	found  [maxBodyPaths]span
	totals [maxBodyPaths]float64
	// seen and dup are the path nodes (by bit) the pass reached, and
	// those it reached twice: a key on a mapped path the body has twice.
	seen, dup uint64
}

// span is where a value is in the body: b[start:end]; end is 0 when there
// is none.
type span struct{ start, end int }

// value is the value at the path in slot as gjson.Get gives it, read from
// body (the one scanned, as a string).
func (s *bodyScan) value(body string, slot int) gjson.Result {
	at := s.found[slot-1]
	if at.end == 0 {
		return gjson.Result{}
	}
	v := gjson.Parse(body[at.start:at.end])
	v.Index = at.start
	return v
}

// scanner is one pass over a body: it checks the body as validJSON does
// and, on the way, reads the values at the mapping's paths and adds up its
// sums, so that a body is read once for everything a mapping takes from it.
type scanner struct {
	b    []byte
	into *bodyScan
	// items holds, while an array with sums is read, where each sum's
	// field value is in the current element (a field's first value, as
	// gjson takes it).
	items [maxBodyPaths]span
}

// scan reads body for every path of b into into and reports whether the
// body is valid JSON (as validJSON, which FuzzScanMatchesGJSON holds it to).
func (b *bodyPaths) scan(body []byte, into *bodyScan) (valid bool) {
	s := scanner{b: body, into: into}
	start := skipSpace(body, 0)
	at := []*pathNode{&b.root}
	end, ok := s.value(start, 0, at)
	if !ok || skipSpace(body, end) != len(body) {
		into.kind = 0
		return false
	}
	into.kind = body[start]
	if into.kind != '{' && into.kind != '[' {
		into.kind = 0
	}
	return true
}

// value checks the value at b[i] (no whitespace before it), where the
// nodes at stand, and returns where it ends.
func (s *scanner) value(i, depth int, at []*pathNode) (int, bool) {
	if len(at) == 0 || i >= len(s.b) || depth > maxDepth {
		return validValue(s.b, i, depth)
	}
	switch s.b[i] {
	case '{':
		return s.members(i+1, depth+1, at)
	case '[':
		return s.elements(i+1, depth+1, at)
	}
	return validValue(s.b, i, depth)
}

// members reads an object's members and closing brace, from just after its
// opening brace. A member whose key is a step of a path is read with the
// nodes it leads to; a step that leads nowhere is tried again at a later
// member with the same key, as gjson does.
func (s *scanner) members(i, depth int, at []*pathNode) (int, bool) {
	i = skipSpace(s.b, i)
	if i < len(s.b) && s.b[i] == '}' {
		return i + 1, true
	}
	var room [4]*pathNode
	for {
		key, start, ok := memberKey(s.b, i)
		if !ok {
			return start, false
		}
		next := stepByKey(room[:0], at, key)
		if i, ok = s.value(start, depth, next); !ok {
			return i, false
		}
		s.arrived(next, start, i)
		var closed bool
		if i, closed, ok = afterItem(s.b, i, '}'); !ok || closed {
			return i, ok
		}
	}
}

// elements reads an array's elements and closing bracket, from just after
// its opening bracket. An element is read with the nodes whose step is its
// index and, for each sum over this array, the sum's field; a sum adds up
// the field's value of each element.
func (s *scanner) elements(i, depth int, at []*pathNode) (int, bool) {
	sums := s.sumsOver(at)
	i = skipSpace(s.b, i)
	if i < len(s.b) && s.b[i] == ']' {
		return i + 1, true
	}
	var room [4]*pathNode
	for index := 0; ; index++ {
		next := stepByIndex(room[:0], at, index)
		for _, sum := range sums {
			next = append(next, sum.root)
		}
		start := i
		var ok bool
		if i, ok = s.value(start, depth, next); !ok {
			return i, false
		}
		s.arrived(next, start, i)
		s.addUp(sums)
		var closed bool
		if i, closed, ok = afterItem(s.b, i, ']'); !ok || closed {
			return i, ok
		}
	}
}

// stepByKey appends the children of at whose step is key, raw as it is in
// the body (escapes are read first).
func stepByKey(next, at []*pathNode, key []byte) []*pathNode {
	if bytes.IndexByte(key, '\\') >= 0 {
		key = []byte(unescapedKey(key))
	}
	for _, n := range at {
		for _, c := range n.children {
			if c.key == string(key) {
				next = append(next, c)
			}
		}
	}
	return next
}

// unescapedKey reads an object key with escapes in it, as gjson does.
func unescapedKey(raw []byte) string {
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	return gjson.ParseBytes(quoted).Str
}

// stepByIndex appends the children of at whose step reads as index.
func stepByIndex(next, at []*pathNode, index int) []*pathNode {
	for _, n := range at {
		for _, c := range n.children {
			if c.index == index {
				next = append(next, c)
			}
		}
	}
	return next
}

// arrived records the value at b[start:end] for the nodes that lead to it:
// a path's value and a sum field's value are the first found.
func (s *scanner) arrived(at []*pathNode, start, end int) {
	for _, n := range at {
		if s.into.seen&n.bit != 0 {
			s.into.dup |= n.bit
		}
		s.into.seen |= n.bit
		if n.slot > 0 && s.into.found[n.slot-1].end == 0 {
			s.into.found[n.slot-1] = span{start, end}
		}
		if n.sumEnd > 0 && s.items[n.sumEnd-1].end == 0 {
			s.items[n.sumEnd-1] = span{start, end}
		}
	}
}

// sumsOver lists the sums over the array the nodes at lead to, where it
// is the first value found at its path (the one gjson reads).
func (s *scanner) sumsOver(at []*pathNode) []*sumField {
	var sums []*sumField
	for _, n := range at {
		if len(n.sums) > 0 && n.slot > 0 && s.into.found[n.slot-1].end == 0 {
			if sums == nil {
				sums = n.sums
			} else {
				sums = append(sums[:len(sums):len(sums)], n.sums...)
			}
		}
	}
	return sums
}

// addUp adds each sum's field value in the element just read to its total.
func (s *scanner) addUp(sums []*sumField) {
	for _, sum := range sums {
		if at := s.items[sum.index]; at.end > 0 {
			if f, ok := number(gjson.ParseBytes(s.b[at.start:at.end])); ok {
				s.into.totals[sum.index] += f
			}
		}
		s.items[sum.index] = span{}
	}
}
