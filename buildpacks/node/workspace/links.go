package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Anchor makes a node_modules tree that moved work from its new place. tree is where it is now (a
// launch layer), origin where the package manager installed it (<app>/node_modules). A relative
// link whose target, read from origin, lies outside origin (a workspace package:
// node_modules/@demo/greeting -> ../../packages/greeting) would dangle in the layer; it becomes a
// link to that absolute target, which is in the app at build and at launch alike. Links inside the
// tree (.bin, pnpm's .pnpm store) stay relative. It returns the links it rewrote.
func Anchor(tree, origin string) (int, error) {
	n := 0
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return fmt.Errorf("reading the link %s: %w", p, err)
		}
		if filepath.IsAbs(target) {
			return nil
		}
		rel, err := filepath.Rel(tree, p)
		if err != nil {
			return err
		}
		abs := filepath.Join(filepath.Dir(filepath.Join(origin, rel)), target)
		if within(origin, abs) {
			return nil
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("replacing the link %s: %w", p, err)
		}
		if err := os.Symlink(abs, p); err != nil {
			return fmt.Errorf("linking %s to %s: %w", p, abs, err)
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("anchoring the workspace links of %s: %w", tree, err)
	}
	return n, nil
}

// within reports whether p is dir or lies under it (both clean and absolute).
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// OutsideLinks counts the packages of a node_modules tree that are symlinks out of it (npm, Yarn
// and pnpm link file: dependencies and workspaces to their directories in the app), at its top
// and in its @scope directories. pnpm's links into its own .pnpm store do not count. A tree that
// does not exist has none.
func OutsideLinks(tree string) (int, error) {
	real, err := filepath.EvalSymlinks(tree)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("resolving %s: %w", tree, err)
	}
	var n int
	var count func(dir string, scopes bool) error
	count = func(dir string, scopes bool) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("reading %s: %w", dir, err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			switch {
			case strings.HasPrefix(e.Name(), "."):
			case scopes && e.IsDir() && strings.HasPrefix(e.Name(), "@"):
				if err := count(p, false); err != nil {
					return err
				}
			case e.Type()&fs.ModeSymlink != 0:
				target, err := filepath.EvalSymlinks(p)
				if err == nil && !within(real, target) {
					n++
				}
			}
		}
		return nil
	}
	return n, count(real, true)
}
