package golang

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mattn/go-shellwords"
)

// target is one package to build and the binary it becomes.
type target struct {
	Package string // "./cmd/server" or "."
	Name    string // binary and process type name
}

// parseTargets turns BP_GO_TARGETS (colon separated) into clean "./x" package paths.
func parseTargets(value string) ([]string, error) {
	var pkgs []string
	for _, raw := range strings.Split(value, ":") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if filepath.IsAbs(raw) {
			return nil, fmt.Errorf("BP_GO_TARGETS: %q must be relative to the app root (like ./cmd/server)", raw)
		}
		clean := path.Clean(filepath.ToSlash(raw))
		if clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("BP_GO_TARGETS: %q points outside the app root", raw)
		}
		if clean != "." {
			clean = "./" + clean
		}
		pkgs = append(pkgs, clean)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("BP_GO_TARGETS=%q names no packages", value)
	}
	return pkgs, nil
}

// discoverTargets finds the default targets: "." when the root package is package main,
// otherwise every ./cmd/* directory holding a main package.
func discoverTargets(appDir string) ([]string, error) {
	if isMainPackage(appDir) {
		return []string{"."}, nil
	}
	entries, err := os.ReadDir(filepath.Join(appDir, "cmd"))
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("unable to read %s: %w", filepath.Join(appDir, "cmd"), err)
	}
	var pkgs []string
	for _, e := range entries {
		if e.IsDir() && isMainPackage(filepath.Join(appDir, "cmd", e.Name())) {
			pkgs = append(pkgs, "./cmd/"+e.Name())
		}
	}
	sort.Strings(pkgs)
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("no main package to build in %s: the root package is not package main and no ./cmd/* directory holds one; set BP_GO_TARGETS (e.g. ./cmd/server)", appDir)
	}
	return pkgs, nil
}

// isMainPackage reports whether dir holds Go files (tests and files the go command ignores aside)
// declaring package main.
func isMainPackage(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") ||
			strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.PackageClauseOnly)
		if err != nil {
			continue
		}
		if f.Name.Name == "main" {
			return true
		}
	}
	return false
}

var majorSuffixRE = regexp.MustCompile(`^v[0-9]+$`)

// binaryName names the binary for a package: the directory's base name, or for "." the module
// path's last element (skipping a /vN major-version suffix, as go install does).
func binaryName(pkg, modulePath string) string {
	base := path.Base(path.Clean(pkg))
	if base != "." && base != "/" && base != "" {
		return base
	}
	elems := strings.Split(modulePath, "/")
	name := elems[len(elems)-1]
	if len(elems) > 1 && majorSuffixRE.MatchString(name) {
		name = elems[len(elems)-2]
	}
	if name == "" {
		name = "app"
	}
	return name
}

func resolveTargets(appDir, bpGoTargets, modulePath string) ([]target, error) {
	var pkgs []string
	var err error
	if strings.TrimSpace(bpGoTargets) != "" {
		pkgs, err = parseTargets(bpGoTargets)
	} else {
		pkgs, err = discoverTargets(appDir)
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	var targets []target
	for _, p := range pkgs {
		name := binaryName(p, modulePath)
		if prev, dup := seen[name]; dup {
			if prev == p {
				continue
			}
			return nil, fmt.Errorf("targets %s and %s would both build a binary named %q", prev, p, name)
		}
		seen[name] = p
		targets = append(targets, target{Package: p, Name: name})
	}
	return targets, nil
}

// buildFlags assembles the go build flags (without -o and the package).
func buildFlags(bpBuildFlags, bpLDFlags string, vendored bool) ([]string, error) {
	user, err := shellwords.Parse(bpBuildFlags)
	if err != nil {
		return nil, fmt.Errorf("BP_GO_BUILD_FLAGS=%q: %w", bpBuildFlags, err)
	}
	has := func(flag string) bool {
		for _, u := range user {
			name := strings.TrimLeft(u, "-")
			if !strings.HasPrefix(u, "-") {
				continue
			}
			if name == flag || strings.HasPrefix(name, flag+"=") {
				return true
			}
		}
		return false
	}

	var flags []string
	if !has("trimpath") {
		flags = append(flags, "-trimpath")
	}
	if !has("buildvcs") {
		flags = append(flags, "-buildvcs=false")
	}
	if vendored && !has("mod") {
		flags = append(flags, "-mod=vendor")
	}
	if has("ldflags") {
		if strings.TrimSpace(bpLDFlags) != "" {
			return nil, fmt.Errorf("both BP_GO_BUILD_FLAGS (-ldflags) and BP_GO_BUILD_LDFLAGS set linker flags; use one of them")
		}
	} else {
		ld := "-s -w"
		if strings.TrimSpace(bpLDFlags) != "" {
			ld = strings.TrimSpace(bpLDFlags)
		}
		flags = append(flags, "-ldflags="+ld)
	}
	return append(flags, user...), nil
}

// resolveProjectTargets resolves the targets for any project shape; a workspace resolves
// BP_GO_TARGETS against the modules go.work uses (see workspaceTargets).
func resolveProjectTargets(appDir string, proj project, bpGoTargets string) ([]target, error) {
	if proj.Shape != ShapeWorkspace {
		return resolveTargets(appDir, bpGoTargets, proj.Mod.ModulePath)
	}
	pkgs, err := workspaceTargets(appDir, proj, bpGoTargets)
	if err != nil {
		return nil, err
	}
	return resolveTargets(appDir, strings.Join(pkgs, ":"), "")
}

// workspaceTargets checks that every BP_GO_TARGETS package lies in a module go.work uses and is a
// main package; without BP_GO_TARGETS it takes the one main package of the workspace's modules
// (each module's root or ./cmd/*) and fails, naming go.work and the candidates, when there are
// several or none.
func workspaceTargets(appDir string, proj project, bpGoTargets string) ([]string, error) {
	mains := workspaceMains(appDir, proj.Uses)
	uses := strings.Join(proj.Uses, ", ")
	if strings.TrimSpace(bpGoTargets) == "" {
		switch len(mains) {
		case 1:
			return mains, nil
		case 0:
			return nil, fmt.Errorf("%s uses %s, and none of them holds a main package at its root or in ./cmd/*: set BP_GO_TARGETS to the package to build (like ./api/cmd/server)", proj.File, uses)
		}
		return nil, fmt.Errorf("%s uses several modules with main packages (%s): set BP_GO_TARGETS to the one to build, e.g. BP_GO_TARGETS=%s (colon-separate several)", proj.File, strings.Join(mains, ", "), mains[0])
	}
	pkgs, err := parseTargets(bpGoTargets)
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		if !inWorkspace(p, proj.Uses) {
			return nil, fmt.Errorf("BP_GO_TARGETS: %s is in none of the modules %s uses (%s): name a package inside one of them%s", p, proj.File, uses, suggest(mains))
		}
		if !isMainPackage(filepath.Join(appDir, filepath.FromSlash(p))) {
			return nil, fmt.Errorf("BP_GO_TARGETS: %s is not a main package of the workspace in %s%s", p, proj.File, suggest(mains))
		}
	}
	return pkgs, nil
}

// workspaceMains lists the main packages at the root or in ./cmd/* of each used module, sorted.
func workspaceMains(appDir string, uses []string) []string {
	var mains []string
	for _, u := range uses {
		dir := filepath.Join(appDir, filepath.FromSlash(u))
		if isMainPackage(dir) {
			mains = append(mains, u)
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "cmd"))
		for _, e := range entries {
			if e.IsDir() && isMainPackage(filepath.Join(dir, "cmd", e.Name())) {
				mains = append(mains, path.Join(u, "cmd", e.Name()))
			}
		}
	}
	for i, m := range mains {
		if m != "." && !strings.HasPrefix(m, "./") {
			mains[i] = "./" + m
		}
	}
	sort.Strings(mains)
	return mains
}

// inWorkspace reports whether package p ("./api/cmd/x") lies inside one of the used module dirs.
func inWorkspace(p string, uses []string) bool {
	for _, u := range uses {
		if u == "." || p == u || strings.HasPrefix(p, u+"/") {
			return true
		}
	}
	return false
}

func suggest(mains []string) string {
	if len(mains) == 0 {
		return ""
	}
	return " (main packages found: " + strings.Join(mains, ", ") + ")"
}
