// Package bodytee reads the start of a request body for the conversion
// mapping and puts every byte back, so that the handler after it reads the
// body exactly as the client sent it. It is plain Go (net/http only), kept
// apart from the Caddy glue so that it is fuzzed on its own.
package bodytee

import (
	"bytes"
	"errors"
	"io"
	"net/http"
)

// Read reads up to limit bytes of the request body for the mapping and
// puts every byte read back in front of the rest, so the next handler reads
// the same stream. It returns the bytes when the whole body fit within
// limit; tooLarge says it did not. Content-Length is never changed.
func Read(r *http.Request, limit int64) (body []byte, tooLarge bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, false
	}
	read, err := readUpTo(r.Body, r.ContentLength, limit+1)
	r.Body = &restoredBody{teed: read, rest: errAfter(err, r.Body), closer: r.Body}
	if err != nil || int64(len(read)) > limit {
		return nil, err == nil
	}
	return read, false
}

// upfront is the most the tee allocates before the bytes arrive: a client
// announcing a large body and sending nothing must not make it allocate more.
const upfront = 64 << 10

// readUpTo reads at most max bytes of body. A body whose length is known
// (below max and upfront) is read into one buffer of that size; any other
// grows as it comes. Reaching the end is not an error.
func readUpTo(body io.Reader, length, max int64) ([]byte, error) {
	if length > 0 && length < max && length <= upfront {
		buf := make([]byte, length)
		n, err := io.ReadFull(body, buf)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = nil // shorter than announced: the next reader sees the body's own ending
		}
		return buf[:n], err
	}
	var buf bytes.Buffer
	buf.Grow(int(min(max, upfront)))
	_, err := buf.ReadFrom(io.LimitReader(body, max))
	return buf.Bytes(), err
}

// restoredBody reads the teed bytes, then the rest of the original body,
// and closes the original. It is one allocation where io.MultiReader over a
// bytes.Reader would be four.
type restoredBody struct {
	teed   []byte    // what the tee read and the next reader has not
	rest   io.Reader // the original body, or a reader failing as it did
	closer io.Closer
}

func (b *restoredBody) Read(p []byte) (int, error) {
	if len(b.teed) == 0 {
		return b.rest.Read(p)
	}
	n := copy(p, b.teed)
	b.teed = b.teed[n:]
	return n, nil
}

func (b *restoredBody) Close() error { return b.closer.Close() }

// errAfter returns the original body, or, when reading it failed, a reader
// that fails the same way, so the next handler sees the client's error.
func errAfter(err error, rest io.Reader) io.Reader {
	if err == nil || errors.Is(err, io.EOF) {
		return rest
	}
	return errReader{err}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
