// Command modproxy publishes one commit of this repository to a file-based
// Go module proxy, as the public proxy would serve a tag of it: a
// pseudo-version made from the commit's time and hash, the commit's go.mod,
// and a module zip made by golang.org/x/mod/zip from the commit, which leaves
// out what the go command leaves out (nested modules such as browsertest,
// vendor/, VCS folders). It prints the version it published.
//
// It is a module of its own (in .ci/, which ./... skips) so that x/mod stays
// out of the plugin's requirements.
//
//	go run . -repo ../.. -rev HEAD -out /tmp/proxy
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

func main() {
	repo := flag.String("repo", ".", "the repository's root")
	rev := flag.String("rev", "HEAD", "the commit to publish")
	out := flag.String("out", "", "the file proxy's root directory (GOPROXY=file://<out>)")
	flag.Parse()
	if *out == "" {
		fatal(fmt.Errorf("-out is required"))
	}
	version, err := publish(*repo, *rev, *out)
	if err != nil {
		fatal(err)
	}
	fmt.Println(version)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "modproxy:", err)
	os.Exit(1)
}

// publish writes list, @latest, .info, .mod and .zip for rev under out and returns the
// pseudo-version it used.
func publish(repo, rev, out string) (string, error) {
	root, err := filepath.Abs(repo)
	if err != nil {
		return "", err
	}
	hash, err := git(root, "rev-parse", "--short=12", rev+"^{commit}")
	if err != nil {
		return "", err
	}
	unix, err := git(root, "log", "-1", "--format=%ct", rev)
	if err != nil {
		return "", err
	}
	secs, err := strconv.ParseInt(unix, 10, 64)
	if err != nil {
		return "", fmt.Errorf("reading the commit time %q: %w", unix, err)
	}
	commitTime := time.Unix(secs, 0).UTC()
	goMod, err := git(root, "show", rev+":go.mod")
	if err != nil {
		return "", err
	}
	path := modfile.ModulePath([]byte(goMod))
	if path == "" {
		return "", fmt.Errorf("no module line in %s's go.mod", rev)
	}
	mod := module.Version{Path: path, Version: module.PseudoVersion("v0", "", commitTime, hash)}

	escaped, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(out, escaped, "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var zip bytes.Buffer
	if err := modzip.CreateFromVCS(&zip, mod, root, rev, ""); err != nil {
		return "", fmt.Errorf("making the module zip: %w", err)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{mod.Version, commitTime})
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"list":                []byte(mod.Version + "\n"),
		mod.Version + ".info": info,
		mod.Version + ".mod":  []byte(goMod + "\n"),
		mod.Version + ".zip":  zip.Bytes(),
	}
	// The go command asks @latest when list holds no tagged version.
	if err := os.WriteFile(filepath.Join(dir, "..", "@latest"), info, 0o644); err != nil {
		return "", err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return mod.Version, nil
}

// git runs a git command in dir and returns its trimmed output.
func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(outb)), nil
}
