// Package procfile reads an app's Procfile: one process a line, written
// `<type>: <command>`, with blank lines and # comments. It is the one reader
// the buildpacks share; what a command may say is internal/command's
// business.
package procfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Name is the file's name in the app directory.
const Name = "Procfile"

// Entry is one process of a Procfile.
type Entry struct {
	Type    string // [A-Za-z0-9_-]+
	Command string // trimmed, never empty
	Line    int    // 1-based line number, for messages
}

var lineRE = regexp.MustCompile(`^([A-Za-z0-9_-]+):\s*(\S.*)$`)

// Read parses <appDir>/Procfile. ok is false when there is none; a
// Procfile that cannot be read or parsed is an error naming it (see Parse).
func Read(appDir string) (entries []Entry, ok bool, err error) {
	path := filepath.Join(appDir, Name)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("unable to read %s: %w", path, err)
	}
	entries, err = Parse(path, data)
	return entries, err == nil, err
}

// Parse reads a Procfile's content; path names it in errors, which are
// `<path>:<line>: ...` for a line that is not `<type>: <command>` and for a
// process type given twice. A Procfile of comments only has no entries and
// no error. A carriage return before the line end (a Windows editor's) is
// dropped; lines have no length limit.
func Parse(path string, data []byte) ([]Entry, error) {
	var entries []Entry
	line := map[string]int{} // type → where it was defined
	for i, text := range strings.Split(string(data), "\n") {
		n := i + 1
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		m := lineRE.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: %q is not a `<type>: <command>` line", path, n, text)
		}
		if first, ok := line[m[1]]; ok {
			return nil, fmt.Errorf("%s:%d: process type %q is defined twice (first on line %d): keep one", path, n, m[1], first)
		}
		line[m[1]] = n
		entries = append(entries, Entry{Type: m[1], Command: strings.TrimSpace(m[2]), Line: n})
	}
	return entries, nil
}
