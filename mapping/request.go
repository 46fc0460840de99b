package mapping

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// Request is the view of one request (and optionally the site's answer) that
// a Mapping reads from.
type Request struct {
	// HTTP is the request; its Body is not read (see Body).
	HTTP *http.Request
	// Body is the teed request body, nil when no mapping reads it. Values
	// read from it share its memory, so it must not change once captured.
	Body []byte
	// BodyTooLarge is set when the body was longer than the tee's limit, so
	// body paths must not be trusted.
	BodyTooLarge bool
	// RemoteIP is the client's IP as the server sees it (after trusted proxies).
	RemoteIP string
	// Arrived is when the request arrived; the default event time.
	Arrived time.Time
	// Response is the site's answer, when known.
	Response *Response
	// Placeholders expands Caddy placeholders; nil leaves them empty.
	Placeholders Replacer
	// FixedIDs are event IDs fixed before the events are built: used when
	// an event maps no dedupe ID, so the ID handed to the browser is the
	// one sent to Amazon.
	FixedIDs []FixedID

	form      url.Values
	query     url.Values
	validBody int8 // 0 unknown, 1 valid JSON, -1 not JSON
	// dups is the keys found twice on the way to a mapping's body paths
	// (see Mapping.duplicates), for the mapping numbered dupsOf.
	dups, dupsOf uint64
	// text is Body as a string, made once (text) for gjson to read: the
	// events built from the request may keep parts of it.
	text       string
	textIsBody bool
}

// Reset clears r for another request, as a new Request, keeping FixedIDs'
// array (without what it pointed to).
func (r *Request) Reset() {
	fixed := r.FixedIDs[:0]
	clear(r.FixedIDs)
	*r = Request{FixedIDs: fixed}
}

// bodyText is the body as a string (one copy per request).
func (r *Request) bodyText() string {
	if !r.textIsBody {
		r.text, r.textIsBody = string(r.Body), true
	}
	return r.text
}

// Replacer expands placeholders; *caddy.Replacer is one.
type Replacer interface {
	// ReplaceAll replaces every placeholder in input, unknown ones with empty.
	ReplaceAll(input, empty string) string
}

// FixedID is the event ID fixed for one event block before it is built.
type FixedID struct {
	// Event is the event block's name.
	Event string
	// ID is its event ID.
	ID string
}

// fixedID returns the ID fixed for the event block called name, if any.
func (r *Request) fixedID(name string) string {
	for _, f := range r.FixedIDs {
		if f.Event == name {
			return f.ID
		}
	}
	return ""
}

// Response is the site's answer as far as mappings can read it.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the teed response body.
	Body []byte
}

// lookup evaluates an expression against the request. It returns the value
// and whether there was one; a JSON value keeps its gjson type.
func (r *Request) lookup(e *expr) (gjson.Result, bool) {
	switch e.root {
	case rootLiteral:
		return str(e.key)
	case rootPlaceholder:
		if r.Placeholders == nil {
			return gjson.Result{}, false
		}
		return str(r.Placeholders.ReplaceAll(e.key, ""))
	case rootBody:
		if r.BodyTooLarge || !r.bodyIsJSON() {
			return gjson.Result{}, false
		}
		if e.sum != nil {
			return exists(e.sum.get(r.bodyText()))
		}
		return e.agg.apply(exists(gjson.Get(r.bodyText(), e.key)))
	case rootForm:
		if r.BodyTooLarge {
			return gjson.Result{}, false
		}
		if r.form == nil {
			r.form, _ = url.ParseQuery(string(r.Body))
		}
		return str(r.form.Get(e.key))
	case rootQuery:
		if r.query == nil {
			r.query = r.HTTP.URL.Query()
		}
		return str(r.query.Get(e.key))
	case rootHeader:
		return str(r.HTTP.Header.Get(e.header))
	case rootCookie:
		v, ok := cookie(r.HTTP, e.key)
		if !ok {
			return gjson.Result{}, false
		}
		return str(v)
	case rootRequest:
		return str(r.requestField(e.key))
	}
	return r.lookupResponse(e)
}

func (r *Request) lookupResponse(e *expr) (gjson.Result, bool) {
	if r.Response == nil {
		return gjson.Result{}, false
	}
	switch e.root {
	case rootResponseStatus:
		return gjson.Result{Type: gjson.Number, Num: float64(r.Response.Status), Raw: strconv.Itoa(r.Response.Status)}, r.Response.Status != 0
	case rootResponseHeader:
		return str(r.Response.Header.Get(e.header))
	case rootResponseBody:
		if !validJSON(r.Response.Body) {
			return gjson.Result{}, false
		}
		if e.sum != nil {
			return exists(e.sum.get(string(r.Response.Body)))
		}
		return e.agg.apply(exists(gjson.GetBytes(r.Response.Body, e.key)))
	}
	return gjson.Result{}, false
}

func (r *Request) requestField(name string) string {
	h := r.HTTP
	switch name {
	case "method":
		return h.Method
	case "host":
		return h.Host
	case "path":
		return h.URL.Path
	case "uri":
		return h.RequestURI
	case "remote_ip":
		return r.RemoteIP
	case "user_agent":
		return h.UserAgent()
	case "referer":
		return h.Referer()
	}
	return ""
}

func str(s string) (gjson.Result, bool) {
	return gjson.Result{Type: gjson.String, Str: s}, s != ""
}

func exists(v gjson.Result) (gjson.Result, bool) {
	return v, v.Exists() && v.Type != gjson.Null
}
