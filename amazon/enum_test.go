package amazon

import "testing"

func TestNearestSuggestsOnlyAClearNearMiss(t *testing.T) {
	e := NewEnum("option", "batch_size", "max_body", "dry_run", "api", "spool")
	for in, want := range map[string]string{
		"batch_sise": "batch_size", "BATCH_SIZE": "batch_size", "max_bdy": "max_body",
		"ap": "api", "spoo": "spool", "region": "", "x": "",
	} {
		if got := e.Nearest(in); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
	if got := NewEnum("t", "ab", "ac").Nearest("ad"); got != "" {
		t.Errorf("a tie suggested %q", got)
	}
}
