package trace

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Entry is a file or symlink of a node_modules tree (directories are implied by their entries).
type Entry struct {
	Rel     string // slash-separated path below the tree
	Symlink bool
	Size    int64 // bytes of a regular file
	// Target is where a symlink leads, resolved, relative to the tree; Outside when it leads out
	// of it (a workspace link into the app) or nowhere.
	Target  string
	Outside bool
}

// Plan is Decide's answer: the entries to keep, and the regular files and bytes kept and left out.
type Plan struct {
	Keep         map[string]bool
	RemovedFiles int
	RemovedBytes int64
	KeptFiles    int
	KeptBytes    int64
	Native       []string // packages kept whole for their native addons (.node files)
}

// removable are the file types the trace proves unneeded when nothing reaches them: code nft
// follows (require, import, require of .json) and what only tools read (types, source maps, docs).
// Anything else in a package the app reaches (data, .wasm, templates, .node) stays: a package can
// read it by a path computed at run time.
var removable = []string{".js", ".cjs", ".mjs", ".jsx", ".json", ".ts", ".mts", ".cts", ".tsx", ".map", ".md", ".markdown", ".flow", ".coffee"}

// PackageRoot returns the package directory holding rel (slash-separated, below a node_modules
// tree): "express" for express/lib/router.js, "@scope/name" for a scoped package, "a/node_modules/b"
// for a nested one, ".pnpm/x@1/node_modules/x" in pnpm's store; "" for a file of no package
// (.modules.yaml, .package-lock.json, .bin links).
func PackageRoot(rel string) string {
	parts := strings.Split(rel, "/")
	last := len(parts) - 1 // the file's own name
	root := ""
	for i := 0; i < last; {
		seg := parts[i]
		if seg == ".pnpm" { // pnpm's store: .pnpm/<id>/node_modules/<package>
			if i+2 < last && parts[i+2] == "node_modules" {
				i += 3
				continue
			}
			return root
		}
		if strings.HasPrefix(seg, ".") {
			return root
		}
		n := 1
		if strings.HasPrefix(seg, "@") {
			n = 2
		}
		if i+n > last {
			return root
		}
		root = strings.Join(parts[:i+n], "/")
		if i += n; i < last && parts[i] == "node_modules" {
			i++
			continue
		}
		return root
	}
	return root
}

// isLicence is a package's licence or notice file, kept with every package that stays.
func isLicence(name string) bool {
	up := strings.ToUpper(name)
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "NOTICE"} {
		if strings.HasPrefix(up, p) {
			return true
		}
	}
	return false
}

// Decide chooses what stays of a tree. traced holds the entries the trace reached, whole the
// package directories kept whole (both relative to the tree). A regular file stays when it was
// traced; when its package is kept whole or holds a native addon; when it is not of a removable
// type (or is a licence) and its package was reached; when it belongs to no package; or when it is
// a package.json in a directory above a file that stays (Node.js reads the nearest package.json
// for a file's module type and every package's on the way to resolve it). A symlink stays when its
// target stays (or lies outside the tree).
func Decide(entries []Entry, traced map[string]bool, whole []string) Plan {
	wholeSet := map[string]bool{}
	for _, w := range whole {
		wholeSet[w] = true
	}
	reached := map[string]bool{}
	exists := map[string]bool{}
	var native []string
	for _, e := range entries {
		exists[e.Rel] = true
		pkg := PackageRoot(e.Rel)
		if traced[e.Rel] && !e.Symlink {
			reached[pkg] = true
		}
		if !e.Symlink && strings.HasSuffix(e.Rel, ".node") && pkg != "" && !wholeSet[pkg] {
			wholeSet[pkg] = true
			native = append(native, pkg)
		}
	}
	keep := map[string]bool{}
	for _, e := range entries {
		if e.Symlink {
			continue
		}
		pkg := PackageRoot(e.Rel)
		base := path.Base(e.Rel)
		switch {
		case traced[e.Rel], pkg == "", wholeSet[pkg]:
			keep[e.Rel] = true
		case reached[pkg] && (isLicence(base) || !hasExt(base, removable)):
			keep[e.Rel] = true
		}
	}
	for rel := range keep {
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			if pj := d + "/package.json"; exists[pj] {
				keep[pj] = true
			}
		}
	}
	keepSymlinks(entries, keep)
	plan := Plan{Keep: keep, Native: native}
	for _, e := range entries {
		switch {
		case e.Symlink:
		case keep[e.Rel]:
			plan.KeptFiles++
			plan.KeptBytes += e.Size
		default:
			plan.RemovedFiles++
			plan.RemovedBytes += e.Size
		}
	}
	sort.Strings(plan.Native)
	return plan
}

// keepSymlinks keeps the symlinks whose target stays: a kept file, or a directory with one.
func keepSymlinks(entries []Entry, keep map[string]bool) {
	dirs := map[string]bool{}
	for rel := range keep {
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, e := range entries {
		if e.Symlink && (e.Outside || keep[e.Target] || dirs[e.Target]) {
			keep[e.Rel] = true
		}
	}
}

func hasExt(name string, exts []string) bool {
	for _, x := range exts {
		if strings.HasSuffix(name, x) {
			return true
		}
	}
	return false
}

// Scan lists the files and symlinks of the tree at root, resolving each symlink's target.
func Scan(root string) ([]Entry, error) {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", root, err)
	}
	var out []Entry
	err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(real, p)
		e := Entry{Rel: filepath.ToSlash(rel)}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			e.Symlink = true
			t, err := filepath.EvalSymlinks(p)
			if r, ok := Within(real, t); err == nil && ok {
				e.Target = r
			} else {
				e.Outside = true
			}
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			e.Size = info.Size()
		default:
			return nil
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	return out, nil
}

// Within returns p relative to dir (slash-separated) when p lies below dir.
func Within(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// Apply copies the kept entries of the tree at root into dst (created; file modes and symlink
// texts as they are).
func Apply(root, dst string, entries []Entry, keep map[string]bool) error {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", root, err)
	}
	for _, e := range entries {
		if !keep[e.Rel] {
			continue
		}
		src, to := filepath.Join(real, filepath.FromSlash(e.Rel)), filepath.Join(dst, filepath.FromSlash(e.Rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if e.Symlink {
			link, err := os.Readlink(src)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, to); err != nil {
				return err
			}
			continue
		}
		if err := copyFile(src, to); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return out.Close()
}
