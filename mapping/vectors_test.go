package mapping

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
)

// amazonVectors are the outputs of Amazon's own reference normalisers on
// realistic inputs (normalize/testdata/README.md says how they were made).
type amazonVectors struct {
	Reference map[string]string `json:"reference"`
	Vectors   []struct {
		Type, Country, Input, Normalized, SHA256 string
		// Completed is, for phones, the number libphonenumber reads with
		// the country (national numbers completed), which this module
		// sends where Amazon's uploader would reject or misread it.
		Completed       string `json:"completed"`
		CompletedSHA256 string `json:"completed_sha256"`
		// InternationalSHA256 is, for a phone written with the prefix 00,
		// Amazon's hash of the number written with "+", which this module
		// sends where Amazon's uploader rejects the 00 form.
		InternationalSHA256 string `json:"international_sha256"`
	} `json:"vectors"`
}

func loadAmazonVectors(t *testing.T) amazonVectors {
	t.Helper()
	raw, err := os.ReadFile("../normalize/testdata/amazon-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v amazonVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) < 200 || v.Reference["commit"] == "" {
		t.Fatalf("%d vectors, reference %v", len(v.Vectors), v.Reference)
	}
	return v
}

// TestEveryMatchKeyHashesAsAmazonsReferenceNormaliserDoes holds the module
// to every vector through the path that builds real events: a compiled
// mapping evaluating a request whose body carries the value and the
// customer's country. A value Amazon rejects must be left out of the
// event, never sent as the hash of anything.
func TestEveryMatchKeyHashesAsAmazonsReferenceNormaliserDoes(t *testing.T) {
	vectors := loadAmazonVectors(t)
	mappings := map[string]*Mapping{}
	perType := map[string][2]int{} // matching, total
	for _, v := range vectors.Vectors {
		m := mappings[v.Type]
		if m == nil {
			r := Rule{Type: "SIGN_UP", Country: "body.country", DedupeID: "body.id", UserAgent: "-",
				MatchKeys: []MatchKeyRule{{Type: v.Type, Value: "body.value"}, {Type: "FIP", Value: "request.remote_ip"}}}
			m = mustCompile(t, r)
			mappings[v.Type] = m
		}
		want := v.SHA256
		switch {
		case v.Type == "PHONE" && v.Completed != "":
			want = v.CompletedSHA256
		case v.Type == "PHONE" && v.InternationalSHA256 != "":
			want = v.InternationalSHA256
		}
		body, _ := json.Marshal(map[string]string{"id": "1", "country": v.Country, "value": v.Input})
		req := &Request{HTTP: httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body))), Body: body, RemoteIP: "203.0.113.7"}
		e, err := m.Evaluate(req)
		if err != nil {
			t.Fatalf("%s %s %q: %v", v.Type, v.Country, v.Input, err)
		}
		got := ""
		for _, k := range e.MatchKeys {
			if k.Type == v.Type {
				got = k.Values[0]
			}
		}
		counts := perType[v.Type]
		counts[1]++
		if got == want {
			counts[0]++
		} else {
			t.Errorf("%s %s %q: sent %q, Amazon's normaliser gives %q (hash %s)", v.Type, v.Country, v.Input, got, v.Normalized, want)
		}
		perType[v.Type] = counts
	}
	var lines []string
	for typ, c := range perType {
		lines = append(lines, fmt.Sprintf("%-10s %3d/%3d", typ, c[0], c[1]))
	}
	sort.Strings(lines)
	t.Logf("matching Amazon's reference (%s@%.7s):\n%s", vectors.Reference["repository"], vectors.Reference["commit"], strings.Join(lines, "\n"))
}
