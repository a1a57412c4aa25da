package node

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestUnbuiltAddons(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string // under the app dir
		want  []string
	}{
		{"an addon compiled at install", []string{"node_modules/a/binding.gyp", "node_modules/a/build/Release/a.node"}, nil},
		{"an addon whose install script did not run", []string{"node_modules/a/binding.gyp", "node_modules/a/index.js"}, []string{"node_modules/a"}},
		{"prebuilds count as built", []string{"node_modules/@s/b/binding.gyp", "node_modules/@s/b/prebuilds/linux-x64/b.node"}, nil},
		{"a scoped package without one", []string{"node_modules/@s/b/binding.gyp"}, []string{"node_modules/@s/b"}},
		{"a nested dependency's addon is its own", []string{"node_modules/a/binding.gyp", "node_modules/a/node_modules/c/c.node",
			"node_modules/a/node_modules/c/binding.gyp"}, []string{"node_modules/a"}},
		{"no binding.gyp: not an addon", []string{"node_modules/d/index.js"}, nil},
		{"a linked package (file:, workspace) without its addon", []string{"addon/binding.gyp", "link:node_modules/addon=../addon"}, []string{"node_modules/addon"}},
		{"a linked package with its addon", []string{"addon/binding.gyp", "addon/build/Release/a.node", "link:node_modules/@s/addon=../../addon"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := t.TempDir()
			for _, f := range tc.files {
				if link, ok := strings.CutPrefix(f, "link:"); ok {
					name, target, _ := strings.Cut(link, "=")
					if err := os.MkdirAll(filepath.Dir(filepath.Join(app, name)), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.Symlink(target, filepath.Join(app, name)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				p := filepath.Join(app, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := unbuiltAddons(filepath.Join(app, "node_modules"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("unbuiltAddons = %q, want %q", got, tc.want)
			}
		})
	}
}
