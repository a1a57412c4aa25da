package golang

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// assetDirs are the directories apps conventionally read at run time (templates, static files).
var assetDirs = []string{"templates", "static", "public", "assets", "views"}

// runtimeFiles are what the app reads at run time, found in its source.
type runtimeFiles struct {
	Keep      map[string]string // path (file or directory) -> why it is kept
	Unmatched map[string]string // a glob named in the source that matches nothing -> the Go file naming it
}

// findRuntimeFiles finds what the app reads at run time: the conventional asset directories that
// exist, and the existing non-Go paths (or the files globs match) that the Go source names in string
// literals, such as "templates/*.tmpl.html" or "./config/app.yaml". Paths are relative to the app
// root, where the process starts.
func findRuntimeFiles(appDir string) (runtimeFiles, error) {
	rf := runtimeFiles{Keep: map[string]string{}, Unmatched: map[string]string{}}
	for _, d := range assetDirs {
		if info, err := os.Stat(filepath.Join(appDir, d)); err == nil && info.IsDir() {
			rf.Keep[d] = "conventional asset directory"
		}
	}
	lits, err := sourceLiterals(appDir)
	if err != nil {
		return rf, err
	}
	fsys := os.DirFS(appDir)
	for _, l := range lits {
		p, ok := literalPath(l.value)
		if !ok {
			continue
		}
		why := fmt.Sprintf("named in %s", l.file)
		if strings.ContainsAny(p, "*?[{") {
			if !strings.ContainsFunc(p, isAlnum) { // "*", "**/*": not a path the app names
				continue
			}
			matches, err := doublestar.Glob(fsys, p, doublestar.WithFilesOnly())
			if err != nil || len(matches) == 0 {
				rf.Unmatched[p] = l.file
				continue
			}
			for _, m := range matches {
				if !strings.HasSuffix(m, ".go") {
					addKeep(rf.Keep, m, fmt.Sprintf("%s (%q)", why, l.value))
				}
			}
			continue
		}
		if _, err := os.Lstat(filepath.Join(appDir, filepath.FromSlash(p))); err == nil && !strings.HasSuffix(p, ".go") {
			addKeep(rf.Keep, p, why)
		}
	}
	return rf, nil
}

func addKeep(keep map[string]string, p, why string) {
	if _, ok := keep[p]; !ok {
		keep[p] = why
	}
}

// literalPath turns a string literal into a clean slash path under the app root, if it can be one.
func literalPath(s string) (string, bool) {
	if s == "" || len(s) > 200 || strings.ContainsAny(s, "\n\t\"'<>|:%\\ ") || strings.HasPrefix(s, "/") {
		return "", false
	}
	p := path.Clean(s)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || p == "vendor" || strings.HasPrefix(p, "vendor/") ||
		p == ".git" || strings.HasPrefix(p, ".git/") || p == "go.mod" || p == "go.sum" || p == "go.work" {
		return "", false
	}
	return p, true
}

// literal is a string constant in a Go file of the app.
type literal struct {
	value string
	file  string // relative to the app root
}

// sourceLiterals collects the string literals of the app's non-test Go files (vendor, testdata
// and hidden directories skipped).
func sourceLiterals(appDir string) ([]literal, error) {
	var lits []literal
	err := walkGoFiles(appDir, false, parser.SkipObjectResolution, func(rel string, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				if v, err := strconv.Unquote(bl.Value); err == nil {
					lits = append(lits, literal{value: v, file: rel})
				}
			}
			return true
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading the string literals of the Go source under %s: %w", appDir, err)
	}
	return lits, nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
