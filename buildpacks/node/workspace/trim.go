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
	"syscall"
)

// Trimmed is what Trim left out of a node_modules tree.
type Trimmed struct {
	Packages   int      // package directories and links removed
	Workspaces []string // workspaces whose links were removed
}

// Trim leaves out of the installed tree <root>/node_modules what only the workspaces that do not
// run need: it walks, as require() resolves them from each package's real directory, the
// production dependencies of the root package and of keep (the started workspace), then those of
// every other workspace, and removes the packages the second walk reached and the first did not.
// Packages neither walk reaches stay (a package may load an undeclared one), so nothing the
// started app loads through a declared dependency goes missing.
func Trim(root string, all []Workspace, keep Workspace) (Trimmed, error) {
	tree := filepath.Join(root, "node_modules")
	need, other := newWalk(tree), newWalk(tree)
	rootPkg, err := read(root, ".")
	if err != nil {
		return Trimmed{}, err
	}
	rootPkg.Dir = ""
	if err := need.from(root, rootPkg); err != nil {
		return Trimmed{}, err
	}
	if err := need.from(filepath.Join(root, filepath.FromSlash(keep.Dir)), keep); err != nil {
		return Trimmed{}, err
	}
	for _, w := range all {
		if w.Dir == keep.Dir {
			continue
		}
		dir := filepath.Join(root, filepath.FromSlash(w.Dir))
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			other.reached[real] = true // its own link in node_modules goes too, unless needed
		}
		if err := other.from(dir, w); err != nil {
			return Trimmed{}, err
		}
	}
	drop := map[string]bool{}
	for p := range other.reached {
		if !need.reached[p] {
			drop[p] = true
		}
	}
	s := sweeper{drop: drop, root: root}
	if err := s.sweep(tree); err != nil {
		return Trimmed{}, fmt.Errorf("leaving the other workspaces' packages out of %s: %w", tree, err)
	}
	if err := removeDangling(tree); err != nil {
		return Trimmed{}, err
	}
	sort.Strings(s.out.Workspaces)
	return s.out, nil
}

// walk follows dependencies as Node.js resolves them, recording the real directories it reaches.
type walk struct {
	tree    string
	reached map[string]bool
}

func newWalk(tree string) *walk { return &walk{tree: tree, reached: map[string]bool{}} }

// from walks the dependencies of the package in the real directory dir.
func (w *walk) from(dir string, pkg Workspace) error {
	var deps []string
	for _, m := range []map[string]string{pkg.Dependencies, pkg.OptionalDependencies, pkg.PeerDependencies} {
		for d := range m {
			deps = append(deps, d)
		}
	}
	sort.Strings(deps)
	for _, d := range deps {
		found, ok := resolve(dir, d)
		if !ok || w.reached[found] {
			continue
		}
		w.reached[found] = true
		dep, err := readManifest(found)
		if err != nil {
			return err
		}
		if err := w.from(found, dep); err != nil {
			return err
		}
	}
	return nil
}

// resolve finds dep from the real directory dir as require() does: <d>/node_modules/<dep> for dir
// and each ancestor that is not itself a node_modules directory. It returns the real directory.
func resolve(dir, dep string) (string, bool) {
	for d := dir; ; d = filepath.Dir(d) {
		if filepath.Base(d) != "node_modules" {
			if real, err := filepath.EvalSymlinks(filepath.Join(d, "node_modules", filepath.FromSlash(dep))); err == nil {
				return real, true
			}
		}
		if parent := filepath.Dir(d); parent == d {
			return "", false
		}
	}
}

// readManifest reads the dependency fields of <dir>/package.json; a directory without one (or an
// unreadable one) has no dependencies to follow.
func readManifest(dir string) (Workspace, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Workspace{}, nil
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("reading %s: %w", filepath.Join(dir, "package.json"), err)
	}
	var w Workspace
	if json.Unmarshal(data, &w) != nil {
		return Workspace{}, nil // a broken manifest inside node_modules: the package loads as it can
	}
	return w, nil
}

// sweeper removes the package slots of a tree whose real directory is in drop.
type sweeper struct {
	drop map[string]bool
	root string
	out  Trimmed
}

// sweep visits the package slots of one node_modules directory: <nm>/<name>, <nm>/@scope/<name>,
// and pnpm's <nm>/.pnpm/<id>/node_modules.
func (s *sweeper) sweep(nm string) error {
	entries, err := os.ReadDir(nm)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(nm, e.Name())
		switch name := e.Name(); {
		case name == ".pnpm":
			ids, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			for _, id := range ids {
				if !id.IsDir() || id.Name() == "node_modules" {
					continue // pnpm's hoisted links: removeDangling drops those that lost their package
				}
				if err := s.sweep(filepath.Join(p, id.Name(), "node_modules")); err != nil {
					return err
				}
				if err := removeStoreEntry(filepath.Join(p, id.Name())); err != nil {
					return err
				}
			}
		case strings.HasPrefix(name, "."):
		case strings.HasPrefix(name, "@") && e.IsDir():
			if err := s.sweep(p); err != nil {
				return err
			}
			if rest, _ := os.ReadDir(p); len(rest) == 0 {
				_ = os.Remove(p)
			}
		default:
			if err := s.slot(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// slot removes one package (directory or link) when dropped, else looks into its own node_modules.
func (s *sweeper) slot(p string) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil // a dangling link: not ours to judge
	}
	if !s.drop[real] {
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			return s.sweep(filepath.Join(p, "node_modules"))
		}
		return nil
	}
	if within(s.root, real) && !within(filepath.Join(s.root, "node_modules"), real) {
		if rel, err := filepath.Rel(s.root, real); err == nil {
			s.out.Workspaces = append(s.out.Workspaces, filepath.ToSlash(rel))
		}
	}
	s.out.Packages++
	return os.RemoveAll(p)
}

// removeStoreEntry removes a pnpm store entry (.pnpm/<name>@<version>) whose package went: what
// is left in its node_modules is only links to the package's dependencies, or nothing.
func removeStoreEntry(entry string) error {
	holdsPackage := false
	err := filepath.WalkDir(filepath.Join(entry, "node_modules"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipAll
			}
			return err
		}
		if d.Type().IsRegular() {
			holdsPackage = true
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil || holdsPackage {
		return err
	}
	return os.RemoveAll(entry)
}

// removeDangling removes the links of the tree that lost their package: .bin commands, and pnpm's
// hoisted links in .pnpm/node_modules. A dangling link to outside the tree is not its to judge.
func removeDangling(tree string) error {
	return filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return fmt.Errorf("reading the link %s: %w", p, err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		if !within(tree, target) {
			return nil
		}
		return os.Remove(p)
	})
}
