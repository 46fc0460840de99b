package mapping

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
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
	// which is evaluated in one pass (see sumPath).
	sum *sumPath
	// slot, for a request body path, is where the mapping's pass over the
	// body puts its value (the array's, for a sum); 0 when it is read
	// with gjson.Get on its own (see bodyPaths).
	slot int
	// sumIndex, for a sum with a slot, is 1 + where the pass puts its
	// total; 0 when the sum is added up on its own (see sumPath.sum).
	sumIndex int
	// along, for a body path with a slot, is the bits of the path nodes on
	// its way: the pass finds a key twice there when its dup set has one.
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

// sumPath is a body path <array>.#.<field>|@sum whose parts are plain keys
// and indexes, such as items.#.qty|@sum. gjson would build the array of
// fields as new JSON and parse it again for @sum; get adds the fields up
// in one pass over the array, with the same result (a test holds them
// equal).
type sumPath struct{ array, field string }

var plainPath = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

func parseSumPath(path string) *sumPath {
	rest, ok := strings.CutSuffix(path, "|@sum")
	if !ok {
		return nil
	}
	array, field, ok := strings.Cut(rest, ".#.")
	if !ok || !plainPath.MatchString(array) || !plainPath.MatchString(field) {
		return nil
	}
	return &sumPath{array: array, field: field}
}

// get is gjson.Get(json, path) for the sum's path.
func (p *sumPath) get(json string) gjson.Result {
	var list gjson.Result
	if gjson.Parse(json).IsObject() {
		list = gjson.Get(json, p.array)
	}
	return p.over(json, list)
}

// over is get when list, the value at the array's path, is already known
// (and left empty when json is not an object).
func (p *sumPath) over(json string, list gjson.Result) gjson.Result {
	v := p.sum(json, list)
	if v.Type == gjson.Number && v.Raw == "" {
		v.Raw = strconv.FormatFloat(v.Num, 'f', -1, 64)
	}
	return v
}

// sum is over without the total's text: Result.String makes the same
// text from Num when it is asked for, and Evaluate reads numbers by Num.
func (p *sumPath) sum(json string, list gjson.Result) gjson.Result {
	if !list.IsArray() { // rare: let gjson say what the path reads
		v, _ := aggregate{kind: 's'}.apply(exists(gjson.Get(json, p.array+".#."+p.field)))
		return v
	}
	total := 0.0
	list.ForEach(func(_, item gjson.Result) bool {
		if f, ok := number(item.Get(p.field)); ok {
			total += f
		}
		return true
	})
	return gjson.Result{Type: gjson.Number, Num: total}
}
