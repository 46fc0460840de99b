package bodytee

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// failingBody yields data, then fails like a client that went away.
type failingBody struct {
	data   *bytes.Reader
	closed bool
}

var errClientGone = errors.New("client went away")

func (f *failingBody) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if err == io.EOF {
		return n, errClientGone
	}
	return n, err
}

func (f *failingBody) Close() error { f.closed = true; return nil }

// checkTee tees body with limit and checks that the rest of the chain reads
// every byte, and that the mapping sees the body only when it fit.
func checkTee(t *testing.T, body []byte, limit int64, contentLength int64) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.ContentLength = contentLength
	got, tooLarge := Read(r, limit)
	fits := int64(len(body)) <= limit
	if fits && (tooLarge || !bytes.Equal(got, body)) {
		t.Fatalf("a %d-byte body within %d: got %d bytes, tooLarge=%v", len(body), limit, len(got), tooLarge)
	}
	if !fits && (!tooLarge || got != nil) {
		t.Fatalf("a %d-byte body over %d: got %d bytes, tooLarge=%v", len(body), limit, len(got), tooLarge)
	}
	if r.ContentLength != contentLength {
		t.Fatalf("Content-Length changed from %d to %d", contentLength, r.ContentLength)
	}
	rest, err := io.ReadAll(r.Body)
	if err != nil || !bytes.Equal(rest, body) {
		t.Fatalf("the next handler read %d bytes (err %v), want the %d sent", len(rest), err, len(body))
	}
}

func TestTeeRestoresEveryByte(t *testing.T) {
	for _, size := range []int{0, 1, 1023, 1024, 1025, 64 << 10, 1 << 20} {
		body := bytes.Repeat([]byte{'x', 0, 0xff}, size/3+1)[:size]
		checkTee(t, body, 1024, int64(size))
		checkTee(t, body, 1024, -1) // chunked: length unknown
	}
}

func TestTeeWithoutABody(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Body = http.NoBody
	if got, tooLarge := Read(r, 10); got != nil || tooLarge || r.Body != http.NoBody {
		t.Errorf("got %q %v, body replaced: %v", got, tooLarge, r.Body != http.NoBody)
	}
}

func TestTeePassesTheClientsReadErrorOn(t *testing.T) {
	fb := &failingBody{data: bytes.NewReader([]byte("partial"))}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Body = fb
	got, tooLarge := Read(r, 1024)
	if got != nil || tooLarge {
		t.Errorf("a failed body gave %q, tooLarge=%v; the mapping must not see it", got, tooLarge)
	}
	rest, err := io.ReadAll(r.Body)
	if string(rest) != "partial" || !errors.Is(err, errClientGone) {
		t.Errorf("next handler read %q, %v; want the bytes and then the client's error", rest, err)
	}
	r.Body.Close()
	if !fb.closed {
		t.Error("closing the restored body did not close the original")
	}
}

func FuzzTeeBody(f *testing.F) {
	f.Add([]byte(""), int64(0))
	f.Add([]byte(`{"order":{"id":"1"}}`), int64(8))
	f.Add([]byte("email=a%40b&x=1"), int64(1024))
	f.Add(bytes.Repeat([]byte{0xff}, 5000), int64(4096))
	f.Fuzz(func(t *testing.T, body []byte, limit int64) {
		if limit < 0 || limit > 1<<20 {
			limit = int64(len(body))
		}
		checkTee(t, body, limit, int64(len(body)))
		checkTee(t, body, limit, -1)
	})
}

// A client that announces a large body and sends a few bytes does not make
// the tee allocate what it announced.
func TestTeeDoesNotAllocateWhatTheClientOnlyAnnounces(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":1}`))
		r.ContentLength = 50 << 20
		if got, tooLarge := Read(r, 100<<20); string(got) != `{"a":1}` || tooLarge {
			t.Fatalf("got %q, tooLarge=%v", got, tooLarge)
		}
	}
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 10<<20 {
		t.Errorf("10 requests announcing 50 MiB each allocated %d MiB", grown>>20)
	}
}
