package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateHasNoSideEffectsAndWorksBesideARunningCaddy runs `caddy
// validate` on a config before and while another Caddy process runs it:
// it passes both times and never creates the spool.
func TestValidateHasNoSideEffectsAndWorksBesideARunningCaddy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Caddy")
	}
	bin := buildCaddy(t)
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	config := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(config, []byte(siteConfig(freePort(t), freePort(t), freePort(t), spool)), 0o600); err != nil {
		t.Fatal(err)
	}
	validate := func() {
		t.Helper()
		out, err := caddyValidate(bin, config)
		if err != nil {
			t.Fatalf("caddy validate: %v\n%s", err, out)
		}
	}

	validate()
	if _, err := os.Stat(spool); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("caddy validate created the spool directory (%v)", err)
	}

	startChild(t, bin, config).awaitServing(t)
	files, _ := os.ReadDir(spool)
	if len(files) == 0 {
		t.Fatal("the running Caddy has not opened its spool")
	}
	validate() // the spool is open (and locked) in the other process
}

// TestValidateRefusesASpoolThatCannotBeWritten points the spool below a
// file: validate fails and names the problem.
func TestValidateRefusesASpoolThatCannotBeWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Caddy")
	}
	bin := buildCaddy(t)
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(config, []byte(siteConfig(freePort(t), freePort(t), freePort(t), filepath.Join(notADir, "spool"))), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := caddyValidate(bin, config)
	if err == nil || !strings.Contains(string(out), "is not a directory") {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
}

// TestValidateWarnsAboutAnEntityID: Adobe migrants paste the ENTITY… ID;
// validate says which ID Amazon's own sample sends and how to find it.
func TestValidateWarnsAboutAnEntityID(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Caddy")
	}
	bin := buildCaddy(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "Caddyfile")
	cfg := strings.Replace(siteConfig(freePort(t), freePort(t), freePort(t), filepath.Join(dir, "spool")), "account_id     CRASH", "account_id     ENTITY2ABC3DEF", 1)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := caddyValidate(bin, config)
	if err != nil {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
	for _, want := range []string{"looks like an Entity ID", "DSP advertiser ID", "caddy amazon-capi accounts"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validate's output lacks %q:\n%s", want, out)
		}
	}
}

// caddyValidate runs `caddy validate` on a Caddyfile, as a user would.
func caddyValidate(bin, config string) ([]byte, error) {
	return exec.Command(bin, "validate", "--config", config, "--adapter", "caddyfile").CombinedOutput()
}
