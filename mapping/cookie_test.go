package mapping

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// cookie reads what (*http.Request).Cookie reads, for any Cookie header
// lines and name.
func FuzzCookieMatchesNetHTTP(f *testing.F) {
	f.Add("a=1; euconsent-v2=CPX; b=2", "", "euconsent-v2")
	f.Add(` x = "quoted" ;x=2`, "x=3", "x")
	f.Add("x=bad\\value; x=good", "", "x")
	f.Add("x=\"\"; y", "x=1", "x")
	f.Add("n\xffm=1; n=2", " ; ;n=3", "n")
	f.Add("a;b;c", "", "")
	f.Fuzz(func(t *testing.T, line1, line2, name string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = []string{line1, line2}
		got, gotOK := cookie(r, name)
		want, err := r.Cookie(name)
		if gotOK != (err == nil) || gotOK && got != want.Value {
			t.Fatalf("cookie %q in %q, %q: %q %v; net/http: %+v %v", name, line1, line2, got, gotOK, want, err)
		}
	})
}

func TestCookieLimitIsNetHTTPs(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	line := "x=1"
	for range maxCookies {
		line += ";y=2"
	}
	r.Header["Cookie"] = []string{line}
	if v, ok := cookie(r, "x"); ok {
		t.Errorf("a request with more than %d cookies gave %q", maxCookies, v)
	}
}

// BenchmarkCookie is the hand-written reader against net/http's on a
// shop's Cookie header (a dozen cookies, a TCF string, analytics IDs): the
// verdict on keeping it is in bench/README.md.
func BenchmarkCookie(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "_ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; session=abcdef0123456789abcdef0123456789; "+
		"cart=3; lang=en-US; euconsent-v2=CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA; _fbp=fb.1.1700000000000.123456789; "+
		"cmp_ads=yes; theme=dark; amzn_aref=AbCdEf1234.1764072000000|ZyXwVu9876.1764072100000; currency=USD; ab=B")
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := cookie(r, "amzn_aref"); !ok {
				b.Fatal("not found")
			}
		}
	})
	b.Run("net/http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Cookie("amzn_aref"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
