package amazon

//go:generate go run ./internal/genenums schema/events-openapi.json enums.go

import (
	"fmt"
	"strings"
)

// Enum is a closed set of string values from Amazon's schema.
type Enum struct {
	name   string
	values map[string]struct{}
	list   []string
}

// NewEnum builds an Enum called name from its values.
func NewEnum(name string, values ...string) Enum {
	e := Enum{name: name, values: make(map[string]struct{}, len(values)), list: values}
	for _, v := range values {
		e.values[v] = struct{}{}
	}
	return e
}

// Has reports whether v is one of the enum's values (case-sensitive).
func (e Enum) Has(v string) bool {
	_, ok := e.values[v]
	return ok
}

// Values returns the enum's values in sorted order.
func (e Enum) Values() []string { return e.list }

// Check returns nil when v is a value of the enum, else an error that lists
// the allowed values (or a few of them, for long enums such as currencies).
func (e Enum) Check(v string) error {
	if e.Has(v) {
		return nil
	}
	if near := e.Nearest(v); near != "" {
		return fmt.Errorf("%q is not a valid %s; did you mean %s?", v, e.name, near)
	}
	allowed := e.list
	more := ""
	if len(allowed) > 15 {
		allowed, more = allowed[:15], fmt.Sprintf(", … (%d in all)", len(e.list))
	}
	return fmt.Errorf("%q is not a valid %s; use one of %s%s", v, e.name, strings.Join(allowed, ", "), more)
}

// Nearest returns the value v was most likely meant to be: the one equal
// to it but for case, or else the one nearest to it within two edits
// (ignoring case), if only one is that near; "" when none is.
func (e Enum) Nearest(v string) string {
	v = strings.TrimSpace(v)
	upper := strings.ToUpper(v)
	const far = 3 // edits
	best, bestDistance, ties := "", far, 0
	for _, candidate := range e.list {
		if strings.EqualFold(candidate, v) {
			return candidate
		}
		d := editDistance(upper, strings.ToUpper(candidate), far)
		switch {
		case d < bestDistance:
			best, bestDistance, ties = candidate, d, 0
		case d == bestDistance && d < far:
			ties++
		}
	}
	if ties > 0 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// limit or more.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
