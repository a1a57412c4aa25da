package golang

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// writeModule turns a main package without go.mod (the GOPATH-era shape) into a module of its own:
// it writes go.mod (module "app", go line of the chosen toolchain) in the workspace and, when the
// package imports anything beyond the standard library, runs go mod tidy to require it.
func (b *Builder) writeModule(appDir string, tool goTool, env map[string]string) error {
	path := filepath.Join(appDir, "go.mod")
	content := fmt.Sprintf("module app\n\ngo %d.%d\n", tool.Version.Major, tool.Version.Minor)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("unable to write %s for the main package without go.mod: %w", path, err)
	}
	imports, err := nonStdImports(appDir)
	if err != nil {
		return err
	}
	if len(imports) == 0 {
		b.Logger.Bodyf("No go.mod: building the main package as module \"app\" (go %d.%d), standard library only", tool.Version.Major, tool.Version.Minor)
		return nil
	}
	b.Logger.Bodyf("No go.mod: building the main package as module \"app\"; it imports %s: go mod tidy", strings.Join(imports, ", "))
	cmd := exec.Command(tool.Bin, "mod", "tidy")
	cmd.Dir = appDir
	cmd.Env = b.goEnv(tool, env)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go mod tidy for the main package without go.mod failed (%v):\n%s\nAdd a go.mod (go mod init; go mod tidy) to pin the dependencies", err, strings.TrimRight(string(out), "\n"))
	}
	return nil
}

// nonStdImports lists the imports of the Go files under appDir (tests included, vendor and
// testdata skipped) that are not in the standard library: those whose first path element has a
// dot, as the go command decides.
func nonStdImports(appDir string) ([]string, error) {
	seen := map[string]bool{}
	err := walkGoFiles(appDir, true, parser.ImportsOnly, func(_ string, f *ast.File) {
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, "\"`")
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") {
				seen[path] = true
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading the imports under %s: %w", appDir, err)
	}
	var list []string
	for p := range seen {
		list = append(list, p)
	}
	sort.Strings(list)
	return list, nil
}

// walkGoFiles parses every .go file under appDir with mode (vendor, testdata
// and hidden or _-prefixed directories skipped; _test.go files only when
// tests) and calls fn with its path relative to appDir and its syntax tree.
func walkGoFiles(appDir string, tests bool, mode parser.Mode, fn func(rel string, f *ast.File)) error {
	fset := token.NewFileSet()
	return filepath.WalkDir(appDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != appDir && (name == "vendor" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || (!tests && strings.HasSuffix(name, "_test.go")) {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, mode)
		if err != nil {
			return fmt.Errorf("unable to parse %s: %w", p, err)
		}
		rel, _ := filepath.Rel(appDir, p)
		fn(filepath.ToSlash(rel), f)
		return nil
	})
}
