package amazon

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTheGeneratedEnumsAreUpToDate runs the generator on the schema kept
// in the repository and wants enums.go unchanged.
func TestTheGeneratedEnumsAreUpToDate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "enums.go")
	cmd := exec.Command("go", "run", "./internal/genenums", "schema/events-openapi.json", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genenums: %v\n%s", err, msg)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("enums.go")
	if !bytes.Equal(got, want) {
		t.Error("amazon/enums.go differs from what the schema gives: run go generate ./amazon")
	}
}

// TestTheSchemaCopyIsAmazons: the schema in the repository is the one the
// project's shared facts hold, where that folder is present (beside the
// checkout, as in CI).
func TestTheSchemaCopyIsAmazons(t *testing.T) {
	shared, err := os.ReadFile("../../shared/amazon/events-openapi.json")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("no ../shared beside the checkout")
	}
	if err != nil {
		t.Fatal(err)
	}
	mine, err := os.ReadFile("schema/events-openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mine, shared) {
		t.Error("amazon/schema/events-openapi.json differs from shared/amazon/events-openapi.json: copy it and run go generate ./amazon")
	}
}
