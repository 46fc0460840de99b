package mapping

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// A field the public sends twice is not trusted: a JSON body with a key
// twice ({"order_id":"A","total":1,…,"order_id":"B","total":99999}), or a
// form or query field repeated. gjson reads the first; the shop's backend
// (Python, Go's encoding/json, PHP, Rails) takes the last, so a conversion
// built from the first would carry values the shop never accepted. An
// event whose mapped field occurs twice is invalid (code duplicate_field).
//
// A body path is checked up to its first part with gjson syntax (a
// wildcard, '#', a modifier, an escape): body.items.#.qty checks the key
// items. Array indexes are followed, as gjson reads them.

// bodyKeys are the keys on the way to a mapping's body paths, as a tree
// (order.id and order.total share the key order), so that one walk over a
// body with gjson.ForEach, into the objects that hold mapped keys and no
// others, finds every mapped key the body has twice. Each key has a bit; a
// path's bits (expr.along) say which keys it goes through.
type bodyKeys struct {
	root keyNode
	bits int // the bits given out, at most 64
}

// keyNode is a key (or an array index) and the keys read under it.
type keyNode struct {
	key      string
	bit      uint64
	children []*keyNode
}

// add gives path's keys their bits and returns them all; 0 when there are
// no bits left for them (the path is then checked on its own).
func (k *bodyKeys) add(path string) uint64 {
	var along uint64
	n := &k.root
	for part := range strings.SplitSeq(path, ".") {
		if !plainKey(part) {
			break
		}
		if n = k.child(n, part); n == nil {
			return 0
		}
		along |= n.bit
	}
	return along
}

// child is n's child for key, added with a bit of its own if need be; nil
// when there are no bits left.
func (k *bodyKeys) child(n *keyNode, key string) *keyNode {
	if c := n.find(key); c != nil {
		return c
	}
	if k.bits == 64 {
		return nil
	}
	c := &keyNode{key: key, bit: 1 << k.bits}
	k.bits++
	n.children = append(n.children, c)
	return c
}

func (n *keyNode) find(key string) *keyNode {
	for _, c := range n.children {
		if c.key == key {
			return c
		}
	}
	return nil
}

// twice returns the bits of n's keys (and their keys, and so on) that v
// has twice in their object. Under a key found twice nothing more is
// looked at: every path through it is refused already.
func (n *keyNode) twice(v gjson.Result) uint64 {
	var seen, dup uint64
	switch {
	case v.IsObject():
		v.ForEach(func(key, value gjson.Result) bool {
			c := n.find(key.Str)
			switch {
			case c == nil:
			case seen&c.bit != 0:
				dup |= c.bit
			case len(c.children) > 0:
				dup |= c.twice(value)
				fallthrough
			default:
				seen |= c.bit
			}
			return true
		})
	case v.IsArray():
		for _, c := range n.children {
			if item := v.Get(c.key); len(c.children) > 0 && item.Exists() {
				dup |= c.twice(item)
			}
		}
	}
	return dup
}

// plainKey reports whether gjson reads part as a key or an index and
// nothing more.
func plainKey(part string) bool {
	return part != "" && !strings.ContainsAny(part, `*?#|@!\{}[],=<>%"`)
}

// duplicated reports whether the value e reads occurs twice in the request.
func (ev *evaluation) duplicated(e *expr) bool {
	r := ev.r
	if e.root != rootBody || e.along == 0 || r.BodyTooLarge || !r.bodyIsJSON() {
		return r.duplicated(e)
	}
	if r.dupsOf != ev.m.id {
		r.dups, r.dupsOf = ev.m.keys.root.twice(gjson.Parse(r.bodyText())), ev.m.id
	}
	return r.dups&e.along != 0
}

// duplicated reports whether the value e reads occurs twice in the request:
// a key on the way to it (or its own) twice in its JSON object, or a form
// or query field given twice.
func (r *Request) duplicated(e *expr) bool {
	switch e.root {
	case rootBody:
		return !r.BodyTooLarge && r.bodyIsJSON() && duplicatedAlong(r.Body, e.key)
	case rootForm:
		return r.form != nil && len(r.form[e.key]) > 1 // parsed by lookup
	case rootQuery:
		return r.query != nil && len(r.query[e.key]) > 1
	case rootResponseBody:
		return r.Response != nil && duplicatedAlong(r.Response.Body, e.key)
	}
	return false
}

// duplicatedAlong walks path's plain keys through body, one at a time, and
// reports whether one of them occurs twice in its object: bodyKeys.twice
// for a single path, where a mapping's keys have no bits left, and for
// the site's answer.
func duplicatedAlong(body []byte, path string) bool {
	cur := gjson.ParseBytes(body)
	for part := range strings.SplitSeq(path, ".") {
		if !plainKey(part) {
			return false
		}
		switch {
		case cur.IsObject():
			n := 0
			cur.ForEach(func(k, v gjson.Result) bool {
				if k.Str == part {
					n++
					cur = v
				}
				return n < 2
			})
			if n != 1 {
				return n > 1
			}
		case cur.IsArray():
			i, err := strconv.Atoi(part)
			if err != nil {
				return false
			}
			cur = cur.Get(strconv.Itoa(i))
		default:
			return false
		}
	}
	return false
}
