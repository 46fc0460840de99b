package mapping

import (
	"errors"
	"strings"
)

// Value is one value expression used outside an event (a path, a
// placeholder or a literal), such as click_token's ad_storage. It reads
// the request only: a body or response path is refused.
type Value struct{ e expr }

// CompileValue checks and compiles a value expression.
func CompileValue(s string) (Value, error) {
	e, err := parseExpr(s)
	if err != nil {
		return Value{}, err
	}
	if e.readsBody() || e.readsReply() {
		return Value{}, errors.New("reads the body or the response, which are not read here; use query., header., cookie. or request.")
	}
	return Value{e: e}, nil
}

// IsSet reports whether the expression is not empty.
func (v Value) IsSet() bool { return v.e.isSet() }

// Lookup evaluates the expression on a request.
func (v Value) Lookup(r *Request) (string, bool) {
	res, ok := r.lookup(&v.e)
	return strings.TrimSpace(res.String()), ok
}

// ConsentGranted reads a consent value by the consent spellings (yes/no,
// granted/denied, opted_in/opted_out, …): granted only for a yes
// spelling; a value no spelling matches is not a grant (fails closed).
func ConsentGranted(s string) bool {
	yes, known := consentValue(s)
	return known && yes
}
