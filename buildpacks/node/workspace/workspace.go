// Package workspace knows the workspaces of a Node.js monorepo (npm, Yarn classic and Berry, pnpm):
// which packages the root declares, which one the image starts, and how to make the installed
// node_modules tree work from its launch layer (workspace links anchored to the app, packages the
// started workspace does not need left out).
package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"
)

// Workspace is one package of the monorepo.
type Workspace struct {
	Dir  string `json:"-"` // slash-separated, relative to the root
	Name string `json:"name"`
	// Scripts and the dependency fields of its package.json.
	Scripts              map[string]string `json:"scripts"`
	Main                 string            `json:"main"`
	Version              string            `json:"version"`
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
}

// Patterns reads the workspace globs of a monorepo root: package.json "workspaces" (an array, or
// Yarn classic's {"packages": [...]}) and pnpm-workspace.yaml "packages". raw is package.json's
// "workspaces" field (nil when absent).
func Patterns(root string, raw json.RawMessage) ([]string, error) {
	var out []string
	if len(raw) > 0 {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			var obj struct {
				Packages []string `json:"packages"`
			}
			if err2 := json.Unmarshal(raw, &obj); err2 != nil {
				return nil, fmt.Errorf("%s: \"workspaces\" is neither a list of globs nor {\"packages\": [...]}: %w", filepath.Join(root, "package.json"), err)
			}
			list = obj.Packages
		}
		out = append(out, list...)
	}
	p := filepath.Join(root, "pnpm-workspace.yaml")
	data, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", p, err)
	default:
		var doc struct {
			Packages []string `yaml:"packages"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s is not valid YAML (fix its \"packages\" list): %w", p, err)
		}
		out = append(out, doc.Packages...)
	}
	return out, nil
}

// Find lists the workspaces the patterns match under root: directories holding a package.json,
// never inside node_modules, minus those a "!pattern" excludes, sorted by directory.
func Find(root string, patterns []string) ([]Workspace, error) {
	dirs := map[string]bool{}
	var excludes []string
	for _, pat := range patterns {
		pat = strings.TrimPrefix(strings.TrimSuffix(filepath.ToSlash(strings.TrimSpace(pat)), "/"), "./")
		if neg, ok := strings.CutPrefix(pat, "!"); ok {
			excludes = append(excludes, strings.TrimPrefix(neg, "./"))
			continue
		}
		if pat == "" || pat == "." {
			continue
		}
		matches, err := doublestar.Glob(os.DirFS(root), pat+"/package.json")
		if err != nil {
			return nil, fmt.Errorf("%s: workspace pattern %q: %w", root, pat, err)
		}
		for _, m := range matches {
			if d := filepath.ToSlash(filepath.Dir(m)); !strings.Contains("/"+d+"/", "/node_modules/") {
				dirs[d] = true
			}
		}
	}
	var out []Workspace
	for d := range dirs {
		if excluded(d, excludes) {
			continue
		}
		w, err := read(root, d)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, nil
}

func excluded(dir string, excludes []string) bool {
	for _, x := range excludes {
		if ok, _ := doublestar.Match(x, dir); ok {
			return true
		}
	}
	return false
}

func read(root, dir string) (Workspace, error) {
	p := filepath.Join(root, filepath.FromSlash(dir), "package.json")
	data, err := os.ReadFile(p)
	if err != nil {
		return Workspace{}, fmt.Errorf("reading workspace %s: %w", p, err)
	}
	var w Workspace
	if err := json.Unmarshal(data, &w); err != nil {
		return Workspace{}, fmt.Errorf("workspace %s is not valid JSON (fix it or drop it from \"workspaces\"): %w", p, err)
	}
	w.Dir = dir
	return w, nil
}

// Lookup finds a workspace by package name or directory (relative to the root).
func Lookup(all []Workspace, nameOrDir string) (Workspace, bool) {
	want := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(nameOrDir), "./"), "/")
	for _, w := range all {
		if w.Name == want || w.Dir == want {
			return w, true
		}
	}
	return Workspace{}, false
}

// Containing is the workspace whose directory holds the file rel (relative to the root): the
// deepest one, for nested workspaces.
func Containing(all []Workspace, rel string) (Workspace, bool) {
	rel = filepath.ToSlash(filepath.Clean(rel))
	var best Workspace
	found := false
	for _, w := range all {
		if strings.HasPrefix(rel, w.Dir+"/") && (!found || len(w.Dir) > len(best.Dir)) {
			best, found = w, true
		}
	}
	return best, found
}

// Describe names the workspaces for messages: "apps/web (@demo/web), packages/greeting".
func Describe(all []Workspace) string {
	var parts []string
	for _, w := range all {
		s := w.Dir
		if w.Name != "" {
			s += " (" + w.Name + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// Label is how a message names one workspace.
func (w Workspace) Label() string {
	if w.Name == "" {
		return w.Dir
	}
	return w.Dir + " (" + w.Name + ")"
}
