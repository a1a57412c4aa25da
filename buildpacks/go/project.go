package golang

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// Shape is the kind of Go project found at an app root.
type Shape int

// The shapes of Go project the buildpack builds.
const (
	ShapeNone      Shape = iota // no Go project
	ShapeModule                 // a go.mod at the root
	ShapeWorkspace              // a go.work at the root and no go.mod
	ShapeGOPATH                 // a main package at the root with neither (the GOPATH-era shape)
)

// String names the shape for the log.
func (s Shape) String() string {
	switch s {
	case ShapeModule:
		return "module (go.mod)"
	case ShapeWorkspace:
		return "workspace (go.work, no root go.mod)"
	case ShapeGOPATH:
		return "main package without go.mod"
	}
	return "no Go project"
}

// DetectShape tells which kind of Go project appDir holds. The run-static extension uses it too,
// so the two agree on what is a Go app.
func DetectShape(appDir string) Shape {
	switch {
	case isFile(filepath.Join(appDir, "go.mod")):
		return ShapeModule
	case isFile(filepath.Join(appDir, "go.work")):
		return ShapeWorkspace
	case isMainPackage(appDir):
		return ShapeGOPATH
	}
	return ShapeNone
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// project is what the build needs to know about the app's Go project.
type project struct {
	Shape Shape
	File  string    // go.mod or go.work path (absent for ShapeGOPATH), for messages
	Mod   goModInfo // module path and Go version lines (from go.work for a workspace)
	Uses  []string  // a workspace's module directories, "./api" style
}

// readProject reads the go.mod or go.work at appDir.
func readProject(appDir string) (project, error) {
	switch shape := DetectShape(appDir); shape {
	case ShapeModule:
		mod, err := readGoMod(appDir)
		return project{Shape: shape, File: filepath.Join(appDir, "go.mod"), Mod: mod}, err
	case ShapeWorkspace:
		return readWorkspace(appDir)
	case ShapeGOPATH:
		return project{Shape: shape, Mod: goModInfo{ModulePath: "app"}}, nil
	}
	return project{}, fmt.Errorf("no Go project in %s: add a go.mod (go mod init), a go.work, or a main package at the root", appDir)
}

// readWorkspace reads appDir/go.work (see parseWorkspace).
func readWorkspace(appDir string) (project, error) {
	path := filepath.Join(appDir, "go.work")
	data, err := os.ReadFile(path)
	if err != nil {
		return project{}, fmt.Errorf("unable to read %s: %w", path, err)
	}
	return parseWorkspace(path, data)
}

// parseWorkspace parses the go.work at path: its go and toolchain lines and the modules it uses,
// each "." or "./dir" inside the directory of path. Errors name path: a syntax error, a use
// outside the directory, no use at all.
func parseWorkspace(path string, data []byte) (project, error) {
	f, err := modfile.ParseWork(path, data, nil)
	if err != nil {
		return project{}, fmt.Errorf("unable to parse %s: %w", path, err)
	}
	p := project{Shape: ShapeWorkspace, File: path}
	if f.Go != nil {
		p.Mod.Go = f.Go.Version
	}
	if f.Toolchain != nil && f.Toolchain.Name != "default" {
		p.Mod.Toolchain = strings.TrimPrefix(f.Toolchain.Name, "go")
	}
	for _, u := range f.Use {
		rel := filepath.ToSlash(filepath.Clean(u.Path))
		if filepath.IsAbs(u.Path) || rel == ".." || strings.HasPrefix(rel, "../") {
			return project{}, fmt.Errorf("%s: use %s lies outside the app directory, so it is not in the build; move the module into the app or drop the line", path, u.Path)
		}
		if rel != "." {
			rel = "./" + rel
		}
		p.Uses = append(p.Uses, rel)
	}
	if len(p.Uses) == 0 {
		return project{}, fmt.Errorf("%s uses no module: add a use directive (go work use ./yourmodule)", path)
	}
	return p, nil
}

// directiveFile names the file whose go/toolchain lines choose the Go version.
func (p project) directiveFile() string {
	if p.File == "" {
		return "go.mod"
	}
	return filepath.Base(p.File)
}
