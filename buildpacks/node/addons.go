package node

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// unbuiltAddons lists the packages under modules (a node_modules tree) that carry a binding.gyp
// but no compiled addon (no .node file anywhere in the package, its own node_modules aside): their
// install script, which would have compiled it with node-gyp, did not run, so requiring them fails
// at run time. npm 12 runs a dependency's install scripts only when package.json's allowScripts
// approves it, pnpm 10 only with onlyBuiltDependencies, and --ignore-scripts runs none. Paths are
// relative to modules' parent ("node_modules/addon").
func unbuiltAddons(modules string) ([]string, error) {
	gyp := map[string]bool{}   // package dirs with a binding.gyp
	built := map[string]bool{} // package dirs with a .node file
	err := filepath.WalkDir(modules, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch name := d.Name(); {
		case d.Type()&fs.ModeSymlink != 0 && packageRootOf(filepath.Join(p, "x")) == p:
			// A link to a package outside the tree (a workspace, a file: dependency).
			if linked, ok := linkedAddonBuilt(p); ok {
				gyp[p], built[p] = true, linked
			}
			return nil
		case d.IsDir():
			return nil
		case name == "binding.gyp":
			gyp[filepath.Dir(p)] = true
		case strings.HasSuffix(name, ".node"):
			built[packageRootOf(p)] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for native addons in %s: %w", modules, err)
	}
	var out []string
	for dir := range gyp {
		if !built[dir] {
			rel, _ := filepath.Rel(filepath.Dir(modules), dir)
			out = append(out, filepath.ToSlash(rel))
		}
	}
	sort.Strings(out)
	return out, nil
}

// linkedAddonBuilt reports, for link (a node_modules entry that links to a package), whether the
// package is an addon (ok: a binding.gyp at its root) and whether it holds a compiled one.
func linkedAddonBuilt(link string) (built, ok bool) {
	dir, err := filepath.EvalSymlinks(link)
	if err != nil || !fileExists(filepath.Join(dir, "binding.gyp")) {
		return false, false
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || built:
			return filepath.SkipAll
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case strings.HasSuffix(d.Name(), ".node") && !d.IsDir():
			built = true
		}
		return nil
	})
	return built, true
}

// packageRootOf is the package directory that holds file: the directory right below the last
// node_modules (its scope included) of file's path.
func packageRootOf(file string) string {
	parts := strings.Split(filepath.ToSlash(file), "/")
	for i := len(parts) - 2; i > 0; i-- {
		if parts[i-1] != "node_modules" {
			continue
		}
		end := i + 1
		if strings.HasPrefix(parts[i], "@") && end < len(parts)-1 {
			end++
		}
		return filepath.FromSlash(strings.Join(parts[:end], "/"))
	}
	return filepath.Dir(file)
}
