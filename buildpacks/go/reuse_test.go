package golang

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBuildKey(t *testing.T) {
	app := t.TempDir()
	os.WriteFile(filepath.Join(app, "main.go"), []byte("package main\n"), 0o644)
	os.WriteFile(filepath.Join(app, "go.sum"), []byte("x v1 h1:abc\n"), 0o644)
	args := [][]string{{"build", "-o", "/layers/app/bin/x", "."}}
	env := []string{"GOFLAGS=-modcacherw", "HOME=/home/cnb", "CGO_ENABLED=0"}
	base, err := buildKey(app, "1.25.4", args, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string) (goVersion string, args [][]string, env []string)
		same   bool
	}{
		{"nothing changed", func(t *testing.T, dir string) (string, [][]string, []string) { return "1.25.4", args, env }, true},
		{"an unrelated variable", func(t *testing.T, dir string) (string, [][]string, []string) {
			return "1.25.4", args, append(env, "HOME=/elsewhere", "PORT=1")
		}, true},
		{"a source edit", func(t *testing.T, dir string) (string, [][]string, []string) {
			os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main // edited\n"), 0o644)
			return "1.25.4", args, env
		}, false},
		{"a new file", func(t *testing.T, dir string) (string, [][]string, []string) {
			os.WriteFile(filepath.Join(dir, "extra.go"), []byte("package main\n"), 0o644)
			return "1.25.4", args, env
		}, false},
		{"a mode change", func(t *testing.T, dir string) (string, [][]string, []string) {
			os.Chmod(filepath.Join(dir, "main.go"), 0o600)
			return "1.25.4", args, env
		}, false},
		{"another Go", func(t *testing.T, dir string) (string, [][]string, []string) { return "1.25.5", args, env }, false},
		{"other flags", func(t *testing.T, dir string) (string, [][]string, []string) {
			return "1.25.4", [][]string{{"build", "-o", "/layers/app/bin/x", "-race", "."}}, env
		}, false},
		{"cgo on", func(t *testing.T, dir string) (string, [][]string, []string) {
			return "1.25.4", args, []string{"GOFLAGS=-modcacherw", "CGO_ENABLED=1"}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.CopyFS(dir, os.DirFS(app))
			os.Chmod(filepath.Join(dir, "main.go"), 0o644)
			os.Chmod(filepath.Join(dir, "go.sum"), 0o644)
			v, a, e := tc.change(t, dir)
			got, err := buildKey(dir, v, a, e)
			if err != nil {
				t.Fatal(err)
			}
			if (got == base) != tc.same {
				t.Errorf("key equal to the base: %v, want %v", got == base, tc.same)
			}
		})
	}
}
