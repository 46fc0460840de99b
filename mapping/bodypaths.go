package mapping

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// maxBodyPaths is the most body paths of one mapping read in a single walk;
// any further path is read with gjson.Get on its own.
const maxBodyPaths = 16

// bodyPaths are a mapping's plain body paths (keys and array indexes, such
// as order.total or items.0.sku) as a tree, so that one walk over a body
// finds them all: gjson.Get starts from the top of the body for each path.
// The walk stops once every path has its value, and gives what gjson.Get
// gives for each (FuzzBodyPathsMatchGJSON holds them equal).
type bodyPaths struct {
	root  pathNode
	count int
}

// pathNode is one step of a path: an object key, which on an array is
// read as an index, as gjson does.
type pathNode struct {
	key      string
	index    int // the key as an array index; -1 when it is not one
	slot     int // 1 + where the value of the path ending here goes; 0: none ends here
	children []*pathNode
}

// add makes room for path and returns its slot (1-based), the same for
// the same path; 0 when the path is not plain or there is no room left.
func (b *bodyPaths) add(path string) int {
	if !isPlainBodyPath(path) {
		return 0
	}
	n := &b.root
	for part := range strings.SplitSeq(path, ".") {
		n = n.child(part)
	}
	if n.slot == 0 && b.count < maxBodyPaths {
		b.count++
		n.slot = b.count
	}
	return n.slot
}

// isPlainBodyPath reports whether gjson reads path as nothing but keys and
// indexes: no wildcards, queries, modifiers or escapes, and no index long
// enough to overflow.
func isPlainBodyPath(path string) bool {
	if !plainPath.MatchString(path) {
		return false
	}
	for part := range strings.SplitSeq(path, ".") {
		if len(part) > 9 && strings.Trim(part, digits) == "" {
			return false
		}
	}
	return true
}

const digits = "0123456789"

// arrayIndex reads a path part as gjson reads an array index.
func arrayIndex(part string) (int, bool) {
	if len(part) > 9 || strings.Trim(part, digits) != "" {
		return -1, false
	}
	n, _ := strconv.Atoi(part)
	return n, true
}

func (n *pathNode) child(part string) *pathNode {
	for _, c := range n.children {
		if c.key == part {
			return c
		}
	}
	index, ok := arrayIndex(part)
	if !ok {
		index = -1
	}
	c := &pathNode{key: part, index: index}
	n.children = append(n.children, c)
	return c
}

// walk reads the value of every path in json into found (by slot). It
// returns the body's kind: '{' or '[' when it walked, 0 when the body is a
// single value, where gjson's own reading of a path applies and found is
// left empty.
func (b *bodyPaths) walk(json string, found []gjson.Result) byte {
	doc := gjson.Parse(json)
	var kind byte
	switch {
	case doc.IsObject():
		kind = '{'
	case doc.IsArray():
		kind = '['
	default:
		return 0
	}
	left := b.count
	b.root.visit(doc, found, &left)
	return kind
}

// visit goes through the members of v, an object or array, in order. A
// path's value is the first one found at it; a step that leads nowhere is
// tried again at a later member with the same key, as gjson does.
func (n *pathNode) visit(v gjson.Result, found []gjson.Result, left *int) {
	isArray := v.IsArray()
	v.ForEach(func(key, value gjson.Result) bool {
		for _, c := range n.children {
			if isArray && c.index != int(key.Num) || !isArray && c.key != key.Str {
				continue
			}
			if c.slot > 0 && found[c.slot-1].Raw == "" {
				found[c.slot-1] = value
				*left--
			}
			if len(c.children) > 0 && (value.IsObject() || value.IsArray()) {
				c.visit(value, found, left)
			}
		}
		return *left > 0
	})
}
