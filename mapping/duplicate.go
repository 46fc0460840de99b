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

// duplicated is Request.duplicated, read from the mapping's pass over the
// body where it made one (a key twice on a path it reads is found on the
// way, at no extra cost).
func (ev *evaluation) duplicated(e *expr) bool {
	if r := ev.r; e.root == rootBody && e.slot > 0 && r.scan.of == ev.m.id && !ev.onlyDedupeID {
		return r.scan.dup&e.along != 0
	}
	return ev.r.duplicated(e)
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

// duplicatedAlong walks path's plain keys (up to the first part with gjson
// syntax: a wildcard, '#', a modifier, a pipe, an escape) through body and
// reports whether one of them occurs twice in its object. Array indexes are
// followed.
func duplicatedAlong(body []byte, path string) bool {
	cur := gjson.ParseBytes(body)
	for part := range strings.SplitSeq(path, ".") {
		if part == "" || strings.ContainsAny(part, `*?#|@!\{}[],=<>%"`) {
			return false
		}
		switch {
		case cur.IsObject():
			n := 0
			cur.ForEach(func(k, v gjson.Result) bool {
				if k.String() == part {
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
