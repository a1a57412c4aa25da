package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Start commands that run a devDependency's executable ("start": "tsx src/index.ts" with tsx in
// devDependencies): the install keeps the full tree, and after the prune the packages that provide
// those executables, with what they need, are copied back into the production tree.

// startCommandNames parses every start command (hooks too) and returns the
// commands that packages must provide, sorted and without repeats.
func startCommandNames(cmds []startCommand) ([]string, error) {
	seen := map[string]bool{}
	for _, c := range cmds {
		scripts := c.scripts()
		if len(scripts) == 0 && len(c.Argv) > 0 {
			for _, n := range packageCommand(c.Argv) {
				seen[n] = true
			}
		}
		for _, s := range scripts {
			parsed, err := parseScript(c.Source, s)
			if err != nil {
				return nil, err
			}
			for _, n := range commandNames(parsed) {
				seen[n] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// devCommands are the names whose package is (probably) a devDependency, known before the install:
// a devDependency of that name, or a dev package whose bin names it in package-lock.json.
func devCommands(appDir string, pkg packageJSON, names []string) []string {
	lockBins := devLockBins(filepath.Join(appDir, "package-lock.json"))
	var out []string
	for _, n := range names {
		_, isDev := pkg.DevDependencies[n]
		_, isProd := pkg.Dependencies[n]
		if (isDev && !isProd) || lockBins[n] {
			out = append(out, n)
		}
	}
	return out
}

// devLockBins reads the commands of dev packages in a package-lock.json (v2/v3 "packages").
func devLockBins(path string) map[string]bool {
	out := map[string]bool{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	var lock struct {
		Packages map[string]struct {
			Dev bool            `json:"dev"`
			Bin json.RawMessage `json:"bin"`
		} `json:"packages"`
	}
	if json.Unmarshal(data, &lock) != nil {
		return out
	}
	for key, p := range lock.Packages {
		if !p.Dev || len(p.Bin) == 0 || strings.Count(key, "node_modules/") != 1 {
			continue
		}
		var bins map[string]string
		if json.Unmarshal(p.Bin, &bins) == nil {
			for name := range bins {
				out[name] = true
			}
		}
	}
	return out
}

// keptTool is a command copied back into the production tree and the packages that came with it.
type keptTool struct {
	Command, Package string
	Packages         int
}

// keepTools makes every command in names that the full tree provides and the production tree lacks
// available in the production tree: the providing package and its dependencies (found as Node.js
// resolves them, from the package's real location) are copied at the same paths, and a .bin link
// is added. missing lists the commands neither tree provides.
func keepTools(full, prod string, names []string) (kept []keptTool, missing []string, err error) {
	providers, err := binProviders(full)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(prod, ".bin", name)); err == nil {
			continue
		}
		prov, ok := providers[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		c := closure{full: full, prod: prod, seen: map[string]bool{}}
		if err := c.copy(prov[0]); err != nil {
			return nil, nil, fmt.Errorf("keeping %s (the start command's %q) in the production node_modules: %w", prov[0], name, err)
		}
		if err := linkBin(prod, prov[0], prov[1], name); err != nil {
			return nil, nil, err
		}
		kept = append(kept, keptTool{Command: name, Package: prov[0], Packages: c.copied})
	}
	return kept, missing, nil
}

// binProviders maps each command of the top-level packages of a node_modules tree to the package
// (its path in the tree) and the command's file inside it.
func binProviders(tree string) (map[string][2]string, error) {
	out := map[string][2]string{}
	entries, err := os.ReadDir(tree)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", tree, err)
	}
	var pkgs []string
	for _, e := range entries {
		switch name := e.Name(); {
		case strings.HasPrefix(name, "."):
		case strings.HasPrefix(name, "@"):
			scoped, _ := os.ReadDir(filepath.Join(tree, name))
			for _, s := range scoped {
				pkgs = append(pkgs, name+"/"+s.Name())
			}
		default:
			pkgs = append(pkgs, name)
		}
	}
	for _, p := range pkgs {
		bins, err := packageBins(filepath.Join(tree, p))
		if err != nil {
			continue // not a package (no or unreadable package.json)
		}
		for cmd, rel := range bins {
			out[cmd] = [2]string{p, rel}
		}
	}
	return out, nil
}

// linkBin adds <prod>/.bin/<name> pointing at the package's command file.
func linkBin(prod, pkg, rel, name string) error {
	target := filepath.Join(prod, filepath.FromSlash(pkg), filepath.FromSlash(rel))
	if err := os.Chmod(target, 0o755); err != nil {
		return fmt.Errorf("making %s executable: %w", target, err)
	}
	binDir := filepath.Join(prod, ".bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	r, err := filepath.Rel(binDir, target)
	if err != nil {
		return err
	}
	if err := os.Symlink(r, filepath.Join(binDir, name)); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("linking %s: %w", filepath.Join(binDir, name), err)
	}
	return nil
}

// closure copies packages from the full tree into the production tree, following dependencies.
type closure struct {
	full, prod string
	seen       map[string]bool
	copied     int
}

// copy brings the package at rel (a path inside the tree) over, then what it depends on. A link
// is copied as a link and followed while it stays inside the tree (pnpm's layout).
func (c *closure) copy(rel string) error {
	if c.seen[rel] {
		return nil
	}
	c.seen[rel] = true
	src, dst := filepath.Join(c.full, rel), filepath.Join(c.prod, rel)
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(target, dst); err != nil {
				return err
			}
		}
		abs := filepath.Join(filepath.Dir(src), target)
		if filepath.IsAbs(target) {
			abs = target
		}
		inner, err := filepath.Rel(c.full, abs)
		if err != nil || inner == ".." || strings.HasPrefix(inner, "../") {
			return nil // a workspace link: the app itself provides it
		}
		return c.copy(inner)
	}
	if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
		if err := copyTree(src, dst); err != nil {
			return err
		}
		c.copied++
	}
	return c.copyDeps(rel)
}

// copyDeps copies the dependencies of the package at rel, resolved as Node.js resolves them.
func (c *closure) copyDeps(rel string) error {
	data, err := os.ReadFile(filepath.Join(c.full, rel, "package.json"))
	if err != nil {
		return nil // not a package
	}
	var p struct {
		Dependencies, OptionalDependencies, PeerDependencies map[string]string
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(c.full, rel, "package.json"), err)
	}
	var deps []string
	for _, m := range []map[string]string{p.Dependencies, p.OptionalDependencies, p.PeerDependencies} {
		for d := range m {
			deps = append(deps, d)
		}
	}
	sort.Strings(deps)
	for _, d := range deps {
		if found, ok := resolveIn(c.full, rel, d); ok {
			if err := c.copy(found); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveIn finds dep as Node.js would from the package at rel inside the node_modules tree: in
// <dir>/node_modules/<dep> for rel and each ancestor that is not itself a node_modules directory,
// ending at the tree's top level.
func resolveIn(tree, rel, dep string) (string, bool) {
	for d := filepath.ToSlash(rel); d != "." && d != ""; d = filepath.ToSlash(filepath.Dir(d)) {
		if filepath.Base(d) == "node_modules" {
			continue
		}
		cand := d + "/node_modules/" + dep
		if _, err := os.Lstat(filepath.Join(tree, cand)); err == nil {
			return cand, true
		}
	}
	if _, err := os.Lstat(filepath.Join(tree, dep)); err == nil {
		return dep, true
	}
	return "", false
}
