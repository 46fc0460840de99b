package mapping

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"
)

// root is where a path reads its value from.
type root int

const (
	rootLiteral root = iota
	rootPlaceholder
	rootBody
	rootForm
	rootQuery
	rootHeader
	rootCookie
	rootRequest
	rootResponseStatus
	rootResponseHeader
	rootResponseBody
)

// Roots lists the path prefixes a value expression may start with.
var Roots = []string{"body.", "form.", "query.", "header.", "cookie.", "request.", "response.status", "response.header.", "response.body."}

// RequestFields lists the names that may follow request.
var RequestFields = []string{"method", "host", "path", "uri", "remote_ip", "user_agent", "referer"}

// LiteralPrefix marks a value as a deliberate constant where a constant is
// otherwise refused (dedupe_id, match_key): literal:TEST-ORDER.
const LiteralPrefix = "literal:"

// expr is a compiled value expression.
type expr struct {
	root root
	// explicit is set for a literal written with LiteralPrefix.
	explicit bool
	// key is the literal text, the placeholder text, the gjson path of a
	// body root, or the name of a header, cookie, query or form field.
	key string
	// agg is a body path's trailing @sum or @sumproduct, applied to the
	// value key reads (modifiers.go).
	agg aggregate
	// sum is set for a body path <array>.#.<field>|@sum with plain parts,
	// which is added up without building the list (see sumPath).
	sum *sumPath
	// along, for a body path, is the bits of the keys on its way (see
	// bodyKeys); 0 when they have none, and the path is checked on its own.
	along uint64
	// header, for a header root, is key in canonical form, so that
	// looking it up does not make the canonical form again each time.
	header string
}

// String gives the expression back as written.
func (e expr) String() string {
	switch e.root {
	case rootBody:
		return "body." + e.key + e.agg.String()
	case rootForm:
		return "form." + e.key
	case rootQuery:
		return "query." + e.key
	case rootHeader:
		return "header." + e.key
	case rootCookie:
		return "cookie." + e.key
	case rootRequest:
		return "request." + e.key
	case rootResponseStatus:
		return "response.status"
	case rootResponseHeader:
		return "response.header." + e.key
	case rootResponseBody:
		return "response.body." + e.key + e.agg.String()
	}
	return e.key
}

func (e expr) isSet() bool      { return e.root != rootLiteral || e.key != "" }
func (e expr) isLiteral() bool  { return e.root == rootLiteral }
func (e expr) readsBody() bool  { return e.root == rootBody || e.root == rootForm }
func (e expr) readsReply() bool { return e.root >= rootResponseStatus }

var prefixes = []struct {
	prefix string
	root   root
}{
	{"body.", rootBody},
	{"form.", rootForm},
	{"query.", rootQuery},
	{"header.", rootHeader},
	{"cookie.", rootCookie},
	{"request.", rootRequest},
	{"response.header.", rootResponseHeader},
	{"response.body.", rootResponseBody},
}

// parseExpr compiles one value expression, checking its syntax.
func parseExpr(s string) (expr, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, LiteralPrefix); ok {
		return expr{root: rootLiteral, key: rest, explicit: true}, nil
	}
	if s == "response.status" {
		return expr{root: rootResponseStatus}, nil
	}
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(s, p.prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return expr{}, fmt.Errorf("path %q names nothing after %q", s, p.prefix)
		}
		switch p.root {
		case rootBody, rootResponseBody:
			path, agg, err := cutAggregate(rest)
			if err == nil {
				err = checkGJSONPath(path)
			}
			if err != nil {
				return expr{}, fmt.Errorf("path %q: %w", s, err)
			}
			e := expr{root: p.root, key: path, agg: agg, sum: parseSumPath(rest)}
			return e, nil
		case rootRequest:
			if !contains(RequestFields, rest) {
				return expr{}, fmt.Errorf("path %q: request. takes one of %s", s, strings.Join(RequestFields, ", "))
			}
		}
		e := expr{root: p.root, key: rest}
		if p.root == rootHeader || p.root == rootResponseHeader {
			e.header = http.CanonicalHeaderKey(rest)
		}
		return e, nil
	}
	if strings.HasPrefix(s, "response.") {
		return expr{}, fmt.Errorf("path %q: response paths are response.status, response.header.<name> and response.body.<path>", s)
	}
	if strings.Contains(s, "{") && strings.Contains(s, "}") {
		return expr{root: rootPlaceholder, key: s}, nil
	}
	return expr{root: rootLiteral, key: s}, nil
}

// checkGJSONPath catches the mistakes gjson would silently turn into "no
// value": unbalanced brackets or quotes, and unknown @modifiers.
func checkGJSONPath(p string) error {
	var stack []byte
	inString := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			i++
		case inString:
			if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case c == ')' || c == ']' || c == '}':
			if len(stack) == 0 || stack[len(stack)-1] != opening(c) {
				return fmt.Errorf("unbalanced %q at byte %d", c, i)
			}
			stack = stack[:len(stack)-1]
		case c == '@' && (i == 0 || p[i-1] == '|' || p[i-1] == '.'):
			name := modifierName(p[i+1:])
			if !gjson.ModifierExists(name, nil) {
				return fmt.Errorf("unknown modifier @%s", name)
			}
		}
	}
	if inString {
		return fmt.Errorf("unterminated string")
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	return nil
}

func opening(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '{'
}

func modifierName(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ':', '|', '.', '(', '[', '{':
			return s[:i]
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
