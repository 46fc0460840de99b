package caddymodule

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/shopsignal/caddy-amazon-capi/mapping"
)

// responseTee passes the site's answer to the client unchanged and as it
// comes (writes, flushes, hijacks), while noting its status and headers
// and keeping the first bytes of its body when a mapping reads it.
type responseTee struct {
	*caddyhttp.ResponseWriterWrapper
	status  int
	header  http.Header
	body    bytes.Buffer
	limit   int
	overrun bool
}

func newResponseTee(w http.ResponseWriter, bodyLimit int) *responseTee {
	return &responseTee{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: w}, limit: bodyLimit}
}

// WriteHeader notes the final status and the headers sent with it.
func (t *responseTee) WriteHeader(code int) {
	if t.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		t.status = code
		t.header = t.ResponseWriter.Header().Clone()
	}
	t.ResponseWriter.WriteHeader(code)
}

// Write keeps up to the limit of the body and passes every byte on.
func (t *responseTee) Write(p []byte) (int, error) {
	if t.status == 0 {
		t.WriteHeader(http.StatusOK)
	}
	t.keep(p)
	return t.ResponseWriter.Write(p)
}

func (t *responseTee) keep(p []byte) {
	if t.limit <= 0 || t.overrun {
		return
	}
	if t.body.Len()+len(p) > t.limit {
		t.overrun = true
		t.body.Reset()
		return
	}
	t.body.Write(p)
}

// ReadFrom copies through Write when the body is kept, so nothing bypasses
// the tee; otherwise it keeps the underlying writer's fast path.
func (t *responseTee) ReadFrom(r io.Reader) (int64, error) {
	if t.status == 0 {
		t.WriteHeader(http.StatusOK)
	}
	if t.limit > 0 && !t.overrun {
		return io.Copy(writerOnly{t}, r)
	}
	return t.ResponseWriterWrapper.ReadFrom(r)
}

// Flush sends what is buffered to the client.
func (t *responseTee) Flush() {
	_ = http.NewResponseController(t.ResponseWriter).Flush()
}

// Hijack hands the connection over (websockets).
func (t *responseTee) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

// response is what the mappings see of the answer. A handler that failed
// without writing (Caddy then answers through its error routes) counts with
// the error's status.
func (t *responseTee) response(err error) *mapping.Response {
	status := t.status
	if status == 0 && err != nil {
		status = http.StatusInternalServerError
		var he caddyhttp.HandlerError
		if errors.As(err, &he) && he.StatusCode != 0 {
			status = he.StatusCode
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	header := t.header
	if header == nil {
		header = t.ResponseWriter.Header()
	}
	var body []byte
	if !t.overrun {
		body = t.body.Bytes()
	}
	return &mapping.Response{Status: status, Header: header, Body: body}
}

// writerOnly hides ReadFrom, so io.Copy uses Write.
type writerOnly struct{ io.Writer }
