package workspace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// TestOutsideLinks: links out of node_modules (file: dependencies, workspaces) count, at the top
// and under @scope; installed directories, pnpm's links into its .pnpm store and dot entries
// do not; a missing tree has none.
func TestOutsideLinks(t *testing.T) {
	link := func(t *testing.T, target, name string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, app, tree string)
		want  int
	}{
		{"missing tree", func(t *testing.T, app, tree string) { os.RemoveAll(tree) }, 0},
		{"installed packages only", func(t *testing.T, app, tree string) {
			testenv.WriteFiles(t, tree, map[string]string{"express/package.json": "{}", "@types/node/package.json": "{}", ".package-lock.json": "{}"})
		}, 0},
		{"a file: dependency", func(t *testing.T, app, tree string) {
			testenv.WriteFiles(t, app, map[string]string{"greet/package.json": "{}"})
			link(t, filepath.Join(app, "greet"), filepath.Join(tree, "greet"))
		}, 1},
		{"scoped workspaces beside a package", func(t *testing.T, app, tree string) {
			testenv.WriteFiles(t, app, map[string]string{"packages/a/package.json": "{}", "packages/b/package.json": "{}"})
			testenv.WriteFiles(t, tree, map[string]string{"express/package.json": "{}"})
			link(t, "../../packages/a", filepath.Join(tree, "@acme", "a"))
			link(t, filepath.Join(app, "packages", "b"), filepath.Join(tree, "@acme", "b"))
		}, 2},
		{"pnpm store links and .bin", func(t *testing.T, app, tree string) {
			testenv.WriteFiles(t, tree, map[string]string{".pnpm/express@5.0.0/node_modules/express/package.json": "{}"})
			link(t, ".pnpm/express@5.0.0/node_modules/express", filepath.Join(tree, "express"))
			link(t, filepath.Join(app, "bin"), filepath.Join(tree, ".bin", "tool"))
		}, 0},
		{"a broken link", func(t *testing.T, app, tree string) {
			link(t, filepath.Join(app, "gone"), filepath.Join(tree, "gone"))
		}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := t.TempDir()
			tree := filepath.Join(app, "node_modules")
			if err := os.MkdirAll(tree, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, app, tree)
			got, err := OutsideLinks(tree)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("OutsideLinks = %d, want %d", got, tt.want)
			}
		})
	}
}
