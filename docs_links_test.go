package caddyamazoncapi

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile" // the caddyfile adapter
)

// docFiles are the Markdown files a reader follows links between: the
// README, the map of the code, the changelog, the build guide and docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "ARCHITECTURE.md", "CHANGELOG.md", "xcaddy.md"}
	more, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(more) == 0 {
		t.Fatal("no docs/*.md found")
	}
	return append(files, more...)
}

// TestEveryDocLinkResolves: a relative link in the docs must name a file
// of the repository and, with a #fragment into a Markdown file, one of
// that file's headings (as GitHub makes their anchors). Links to other
// sites are not fetched.
func TestEveryDocLinkResolves(t *testing.T) {
	anchors := map[string]map[string]bool{} // Markdown file → its heading anchors
	anchorsOf := func(path string) (map[string]bool, error) {
		if a, ok := anchors[path]; ok {
			return a, nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		anchors[path] = headingAnchors(string(text))
		return anchors[path], nil
	}
	checked := 0
	for _, file := range docFiles(t) {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range markdownLinks(string(text)) {
			if isExternal(l.target) {
				continue
			}
			checked++
			where := fmt.Sprintf("%s:%d: link %q", file, l.line, l.target)
			path, fragment, _ := strings.Cut(l.target, "#")
			if path == "" {
				path = file // #fragment: a heading of this file
			} else {
				path = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: no such file %s", where, path)
				continue
			}
			if fragment == "" || !strings.HasSuffix(path, ".md") {
				continue
			}
			a, err := anchorsOf(path)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if !a[fragment] {
				t.Errorf("%s: %s has no heading with the anchor #%s", where, path, fragment)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d relative links: is the link syntax still read?", checked)
	}
}

// link is one Markdown link's target and the line it is on.
type link struct {
	target string
	line   int
}

var (
	// linkPattern finds the target of [text](target) and ![alt](target),
	// with an optional "title" after it.
	linkPattern = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// codeSpan is inline code, whose text is not Markdown.
	codeSpan = regexp.MustCompile("`+[^`]*`+")
)

// markdownLinks returns the links of a Markdown text, outside fenced code
// blocks and inline code.
func markdownLinks(text string) []link {
	var out []link
	fenced := false
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		line = codeSpan.ReplaceAllStringFunc(line, func(code string) string {
			return strings.Repeat("x", len(code)) // keeps "[`a`](b)" a link, drops links inside code
		})
		for _, m := range linkPattern.FindAllStringSubmatch(line, -1) {
			out = append(out, link{target: m[1], line: i + 1})
		}
	}
	return out
}

// isExternal reports a link to another site (or another scheme), which is
// not checked.
func isExternal(target string) bool {
	scheme, _, ok := strings.Cut(target, ":")
	return ok && !strings.ContainsAny(scheme, "/#.") // http:, https:, mailto:; not a path holding ':'
}

// headingAnchors returns the anchors GitHub gives a Markdown file's
// headings, outside fenced code blocks.
func headingAnchors(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		hashes := len(line) - len(strings.TrimLeft(line, "#"))
		if hashes == 0 || hashes > 6 || !strings.HasPrefix(line[hashes:], " ") {
			continue
		}
		anchor := githubAnchor(strings.TrimSpace(line[hashes:]))
		if n := seen[anchor]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", anchor, n)] = true
		} else {
			anchors[anchor] = true
		}
		seen[anchor]++
	}
	return anchors
}

// githubAnchor is GitHub's anchor of a heading: lowercase, each space a
// '-', and every other character that is not a letter, a digit, '-' or
// '_' left out.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestGitHubAnchors holds the link checker's reading of Markdown to
// GitHub's: heading anchors, duplicates, code blocks and code spans.
func TestGitHubAnchors(t *testing.T) {
	cases := map[string]string{
		"Try it": "try-it",
		"Click tokens at the edge: `click_token`":                 "click-tokens-at-the-edge-click_token",
		"Migrating from Adobe's Amazon Conversions API extension": "migrating-from-adobes-amazon-conversions-api-extension",
		"Dependencies, and why each":                              "dependencies-and-why-each",
		"Security: what the module trusts, and what it does not":  "security-what-the-module-trusts-and-what-it-does-not",
	}
	for heading, want := range cases {
		if got := githubAnchor(heading); got != want {
			t.Errorf("githubAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
	a := headingAnchors("# A\n## B\n```\n# not a heading\n```\n## B\n#nope\n")
	for _, want := range []string{"a", "b", "b-1"} {
		if !a[want] {
			t.Errorf("no anchor #%s in %v", want, a)
		}
	}
	if a["not-a-heading"] || a["nope"] {
		t.Errorf("a code block or a line without a space after # made an anchor: %v", a)
	}
	links := markdownLinks("see [x](README.md#b) and `[y](CHANGELOG.md)`,\n```\n[z](xcaddy.md)\n```\n[`w`](ARCHITECTURE.md \"title\") <https://x.y>")
	if len(links) != 2 || links[0].target != "README.md#b" || links[1].target != "ARCHITECTURE.md" || links[1].line != 5 {
		t.Errorf("markdownLinks found %+v", links)
	}
}

// TestEveryCaddyfileBlockInDocsAdapts: the Caddyfile blocks of docs/ (the
// configuration reference, the sandbox, the status page's proxy) must
// adapt as they are, as the README's do (caddymodule's
// TestEveryCaddyfileBlockOfTheDocsAdapts). A block that starts with a
// handler directive is tried inside a site, as it is used.
func TestEveryCaddyfileBlockInDocsAdapts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```caddyfile\n(.*?)```")
	n := 0
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range block.FindAllStringSubmatch(string(text), -1) {
			n++
			config := b[1]
			if strings.HasPrefix(config, "amazon_capi") {
				config = "{\n\tadmin off\n}\nhttp://localhost:1 {\n" + config + "\n\trespond \"ok\"\n}\n"
			}
			if _, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(config), nil); err != nil {
				t.Errorf("%s, caddyfile block %d does not adapt: %v\n%s", file, i+1, err, b[1])
			}
		}
	}
	if n < 3 {
		t.Fatalf("found %d caddyfile blocks in docs/", n)
	}
}

// TestArchitectureDocNamesExistingFiles: the map of the code names files
// (`forward/spool.go`); one that was moved or removed makes the map wrong.
func TestArchitectureDocNamesExistingFiles(t *testing.T) {
	text, err := os.ReadFile("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile("`([A-Za-z0-9_./-]+/[A-Za-z0-9_.-]+\\.(?:go|json|md))`").FindAllStringSubmatch(string(text), -1)
	if len(named) < 10 {
		t.Fatalf("found %d file names in ARCHITECTURE.md", len(named))
	}
	for _, m := range named {
		if _, err := os.Stat(filepath.FromSlash(m[1])); err != nil {
			t.Errorf("ARCHITECTURE.md names %s, which does not exist", m[1])
		}
	}
}

// TestGoCommentsCiteExistingDocSections: a Go comment that cites
// docs/<page>.md "<section>" must name a page of docs/ and a heading of it,
// so that a reader can follow the citation.
func TestGoCommentsCiteExistingDocSections(t *testing.T) {
	cite := regexp.MustCompile(`docs/([a-z0-9-]+\.md)(?:\s+\(?"([^"]+)")?`)
	fset := token.NewFileSet()
	cited := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .git, .ci's own module
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, group := range f.Comments {
			text := strings.Join(strings.Fields(group.Text()), " ")
			for _, m := range cite.FindAllStringSubmatch(text, -1) {
				cited++
				page := filepath.Join("docs", m[1])
				body, err := os.ReadFile(page)
				if err != nil {
					t.Errorf("%s cites %s, which does not exist", fset.Position(group.Pos()), page)
					continue
				}
				if m[2] != "" && !strings.Contains(m[2], "<") && !headingAnchors(string(body))[githubAnchor(m[2])] { // "<section>" describes the form
					t.Errorf("%s cites %s %q, which has no such heading", fset.Position(group.Pos()), page, m[2])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited < 20 {
		t.Fatalf("found only %d citations of docs/ in Go comments", cited)
	}
}
