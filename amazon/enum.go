package amazon

//go:generate go run ./internal/genenums ../../shared/amazon/events-openapi.json enums.go

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
	allowed := e.list
	more := ""
	if len(allowed) > 15 {
		allowed, more = allowed[:15], fmt.Sprintf(", … (%d in all)", len(e.list))
	}
	return fmt.Errorf("%q is not a valid %s; use one of %s%s", v, e.name, strings.Join(allowed, ", "), more)
}
