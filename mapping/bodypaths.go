package mapping

import (
	"strconv"
	"strings"
)

// maxBodyPaths is the most body paths (and sums) of one mapping read in its one pass;
// any further path is read with gjson.Get on its own.
const maxBodyPaths = 16

// bodyPaths are a mapping's plain body paths (keys and array indexes, such
// as order.total or items.0.sku) and the fields of its plain sums (such as
// items.#.qty|@sum) as a tree, so that one pass over a body finds them all
// (see scan): gjson.Get starts from the top of the body for each path. The
// pass gives what gjson.Get gives for each (FuzzScanMatchesGJSON holds
// them equal).
type bodyPaths struct {
	root  pathNode
	count int
	sums  int
	// bits counts the path nodes given a bit (see pathNode.bit).
	bits int
}

// sumField is a sum's field, read in each element of the sum's array:
// root stands for the element, and the node where the field's path ends
// has sumEnd set.
type sumField struct {
	field string
	index int // where the sum's total goes
	root  *pathNode
}

// pathNode is one step of a path: an object key, which on an array is
// read as an index, as gjson does.
type pathNode struct {
	key      string
	index    int // the key as an array index; -1 when it is not one
	slot     int // 1 + where the value of the path ending here goes; 0: none ends here
	children []*pathNode
	sums     []*sumField // the sums over the array at this path
	sumEnd   int         // 1 + the index of the sum whose field ends here; 0: none
	// bit, for the first 64 nodes of the paths (not of sums' fields), is
	// this node's bit in a pass's seen and duplicated sets: a node reached
	// twice in one body is a key the body has twice (duplicate.go).
	bit uint64
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
		if n.bit == 0 && b.bits < 64 {
			n.bit = 1 << b.bits
			b.bits++
		}
	}
	if n.slot == 0 && b.count < maxBodyPaths {
		b.count++
		n.slot = b.count
	}
	return n.slot
}

// along is the bits of the nodes on path's way (see pathNode.bit), for a
// path add took.
func (b *bodyPaths) along(path string) uint64 {
	var mask uint64
	n := &b.root
	for part := range strings.SplitSeq(path, ".") {
		if n = n.find(part); n == nil {
			return mask
		}
		mask |= n.bit
	}
	return mask
}

// find returns the child whose step is part, or nil.
func (n *pathNode) find(part string) *pathNode {
	for _, c := range n.children {
		if c.key == part {
			return c
		}
	}
	return nil
}

// addSum makes room for the sum of field over the array at path and
// returns the array's slot and the sum's index (1-based), the same for the
// same sum; sum is 0 when the sum is not read in the pass (the field is
// not plain or there is no room left), and slot is then what add gives.
func (b *bodyPaths) addSum(path, field string) (slot, sum int) {
	slot = b.add(path)
	if slot == 0 || !isPlainBodyPath(field) || b.sums >= maxBodyPaths {
		return slot, 0
	}
	n := &b.root
	for part := range strings.SplitSeq(path, ".") {
		n = n.child(part)
	}
	for _, s := range n.sums {
		if s.field == field {
			return slot, s.index + 1
		}
	}
	s := &sumField{field: field, index: b.sums, root: &pathNode{index: -1}}
	end := s.root
	for part := range strings.SplitSeq(field, ".") {
		end = end.child(part)
	}
	end.sumEnd = s.index + 1
	n.sums = append(n.sums, s)
	b.sums++
	return slot, s.index + 1
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
