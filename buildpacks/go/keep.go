package golang

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// parseKeepPatterns splits BP_KEEP_FILES (colon separated doublestar globs relative to the app root).
func parseKeepPatterns(value string) ([]string, error) {
	var pats []string
	for _, p := range strings.Split(value, ":") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		p = strings.TrimPrefix(filepath.ToSlash(p), "./")
		if strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("BP_KEEP_FILES: %q must be relative to the app root", p)
		}
		if !doublestar.ValidatePattern(p) {
			return nil, fmt.Errorf("BP_KEEP_FILES: %q is not a valid glob", p)
		}
		pats = append(pats, p)
	}
	return pats, nil
}

// keepMatch reports whether rel (slash separated, relative to the app root) is kept: it matches a
// pattern itself or lies inside a directory that does.
func keepMatch(rel string, patterns []string) bool {
	for p := rel; p != "." && p != ""; p = filepathDirSlash(p) {
		for _, pat := range patterns {
			if ok, _ := doublestar.Match(pat, p); ok {
				return true
			}
		}
	}
	return false
}

func filepathDirSlash(p string) string {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "."
	}
	return p[:i]
}

// keeper says which source paths survive the source removal.
type keeper struct {
	Patterns []string // BP_KEEP_FILES globs: what they match is kept whole
	Runtime  []string // files and directories the app reads at run time: kept, Go source excepted
}

// keeps reports whether the file rel (slash separated, relative to the app root) is kept.
func (k keeper) keeps(rel string) bool {
	if keepMatch(rel, k.Patterns) {
		return true
	}
	if strings.HasSuffix(rel, ".go") {
		return false
	}
	for _, r := range k.Runtime {
		if rel == r || strings.HasPrefix(rel, r+"/") {
			return true
		}
	}
	return false
}

// removeSource deletes everything under appDir except the paths k keeps (and the directories
// leading to them). appDir itself stays. It returns the kept files, sorted.
func removeSource(appDir string, k keeper) ([]string, error) {
	patterns := k.Patterns
	type entry struct {
		rel   string
		isDir bool
	}
	var all []entry
	err := filepath.WalkDir(appDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == appDir {
			return nil
		}
		rel, err := filepath.Rel(appDir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() && keepMatch(rel, patterns) {
			// a kept directory is kept whole
			all = append(all, entry{rel, false})
			return filepath.SkipDir
		}
		all = append(all, entry{rel, d.IsDir()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unable to walk %s: %w", appDir, err)
	}
	var kept []string
	// deepest first, so directories are empty (or hold kept files) when we reach them
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		abs := filepath.Join(appDir, filepath.FromSlash(e.rel))
		if e.isDir {
			if err := os.Remove(abs); err != nil && !os.IsNotExist(err) {
				if !isNotEmpty(abs) {
					return nil, fmt.Errorf("unable to remove %s: %w", abs, err)
				}
			}
			continue
		}
		if k.keeps(e.rel) {
			kept = append(kept, e.rel)
			continue
		}
		if err := os.Remove(abs); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("unable to remove %s: %w", abs, err)
		}
	}
	sort.Strings(kept)
	return kept, nil
}

func isNotEmpty(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) > 0
}

// makeWritableAndRemove removes path even when it holds read-only directories (a Go module cache).
func makeWritableAndRemove(path string) error {
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(path)
}

// pruneSource removes the source from the app directory after a successful build, keeping what
// BP_KEEP_FILES names and what the app reads at run time (see findRuntimeFiles), and logs both.
func (b *Builder) pruneSource(appDir string) error {
	value := b.config.Get("BP_KEEP_FILES")
	patterns, err := parseKeepPatterns(value)
	if err != nil {
		return err
	}
	rf, err := findRuntimeFiles(appDir)
	if err != nil {
		return err
	}
	k := keeper{Patterns: patterns, Runtime: slices.Sorted(maps.Keys(rf.Keep))}
	for _, p := range k.Runtime {
		b.Logger.Bodyf("Keeping %s for run time: %s", p, rf.Keep[p])
	}
	for _, p := range slices.Sorted(maps.Keys(rf.Unmatched)) {
		b.Logger.Bodyf("WARNING: %s names %q, which matches no file: the app may fail when it reads it (add the files, or set BP_KEEP_FILES)", rf.Unmatched[p], p)
	}
	kept, err := removeSource(appDir, k)
	if err != nil {
		return err
	}
	switch {
	case len(patterns) > 0:
		b.Logger.Bodyf("Removed the source, keeping %d file(s): run-time files and BP_KEEP_FILES=%s", len(kept), value)
	case len(kept) > 0:
		b.Logger.Bodyf("Removed the source, keeping %d run-time file(s) (BP_KEEP_FILES adds more)", len(kept))
	default:
		b.Logger.Body("Removed the Go source from the image's /workspace (your app directory is untouched; BP_KEEP_FILES keeps files)")
	}
	return nil
}
