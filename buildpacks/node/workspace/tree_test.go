package workspace

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// layout builds a tree: entries ending in "/" are directories, "a -> b" are links, others files
// with the text after "=" (or empty).
func layout(t *testing.T, root string, entries []string) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(root, filepath.FromSlash(e))
		switch {
		case strings.Contains(e, " -> "):
			link, target, _ := strings.Cut(e, " -> ")
			p = filepath.Join(root, filepath.FromSlash(link))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(e, "/"):
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		default:
			name, content, _ := strings.Cut(e, "=")
			write(t, root, map[string]string{name: content})
		}
	}
}

// listing is every path under root (links as "p -> target"), sorted.
func listing(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if fi.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			rel += " -> " + target
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestAnchor(t *testing.T) {
	tests := []struct {
		name  string
		tree  []string // relative to the tree
		want  []string // links after Anchor, with ORIGIN for the original location
		count int
	}{
		{name: "npm workspace link", tree: []string{"@demo/greeting -> ../../packages/greeting", "ms/package.json"},
			want: []string{"@demo/greeting -> ORIGIN/../packages/greeting"}, count: 1},
		{name: "links inside the tree stay", tree: []string{"ms/bin/x.js", ".bin/x -> ../ms/bin/x.js", "a -> .pnpm/a@1/node_modules/a", ".pnpm/a@1/node_modules/a/package.json"},
			want: []string{".bin/x -> ../ms/bin/x.js", "a -> .pnpm/a@1/node_modules/a"}},
		{name: "absolute links stay", tree: []string{"x -> /opt/x"}, want: []string{"x -> /opt/x"}},
		{name: "unscoped yarn workspace link", tree: []string{"lib -> ../libs/lib"}, want: []string{"lib -> ORIGIN/../libs/lib"}, count: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			origin := filepath.Join(base, "app", "node_modules")
			tree := filepath.Join(base, "layer", "node_modules")
			layout(t, tree, tt.tree)
			n, err := Anchor(tree, origin)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.count {
				t.Errorf("rewrote %d links, want %d", n, tt.count)
			}
			var links []string
			for _, e := range listing(t, tree) {
				if strings.Contains(e, " -> ") {
					links = append(links, e)
				}
			}
			var want []string
			for _, w := range tt.want {
				l, target, _ := strings.Cut(w, " -> ")
				if strings.HasPrefix(target, "ORIGIN") {
					target = filepath.Clean(strings.Replace(target, "ORIGIN", origin, 1))
				}
				want = append(want, l+" -> "+target)
			}
			sort.Strings(want)
			if strings.Join(links, "\n") != strings.Join(want, "\n") {
				t.Errorf("links:\n%s\nwant:\n%s", strings.Join(links, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestTrim(t *testing.T) {
	npm := []string{
		"package.json={\"workspaces\":[\"apps/*\",\"packages/*\"],\"dependencies\":{\"root-dep\":\"1\"}}",
		"apps/web/package.json={\"name\":\"web\",\"dependencies\":{\"lib\":\"1\",\"shared\":\"1\"}}",
		"apps/admin/package.json={\"name\":\"admin\",\"dependencies\":{\"big\":\"1\",\"shared\":\"1\"}}",
		"packages/lib/package.json={\"name\":\"lib\",\"dependencies\":{\"ms\":\"1\"}}",
		"node_modules/web -> ../apps/web", "node_modules/admin -> ../apps/admin", "node_modules/lib -> ../packages/lib",
		"node_modules/ms/package.json={}", "node_modules/shared/package.json={}", "node_modules/root-dep/package.json={}",
		"node_modules/big/package.json={\"dependencies\":{\"big-dep\":\"1\",\"ms\":\"1\"}}",
		"node_modules/big-dep/package.json={}", "node_modules/phantom/package.json={}",
		"node_modules/.bin/big -> ../big/cli.js", "node_modules/big/cli.js", "node_modules/.package-lock.json={}",
		"apps/admin/node_modules/nested/package.json={}",
	}
	pnpm := []string{
		"package.json={}", "pnpm-workspace.yaml=packages: ['apps/*']",
		"apps/web/package.json={\"name\":\"web\",\"dependencies\":{\"ms\":\"1\"}}",
		"apps/admin/package.json={\"name\":\"admin\",\"dependencies\":{\"big\":\"1\"}}",
		"apps/web/node_modules/ms -> ../../../node_modules/.pnpm/ms@1/node_modules/ms",
		"apps/admin/node_modules/big -> ../../../node_modules/.pnpm/big@1/node_modules/big",
		"node_modules/.pnpm/ms@1/node_modules/ms/package.json={}",
		"node_modules/.pnpm/big@1/node_modules/big/package.json={\"dependencies\":{\"big-dep\":\"1\",\"ms\":\"1\"}}",
		"node_modules/.pnpm/big@1/node_modules/big-dep -> ../../big-dep@1/node_modules/big-dep",
		"node_modules/.pnpm/big@1/node_modules/ms -> ../../ms@1/node_modules/ms",
		"node_modules/.pnpm/big-dep@1/node_modules/big-dep/package.json={}",
		"node_modules/.modules.yaml=x", "node_modules/.pnpm/lock.yaml=x",
		"node_modules/.pnpm/node_modules/big -> ../big@1/node_modules/big",
		"node_modules/.pnpm/node_modules/ms -> ../ms@1/node_modules/ms",
	}
	tests := []struct {
		name       string
		files      []string
		keep       string
		gone, kept []string
		packages   int
		workspaces string
	}{
		{name: "npm hoisted tree", files: npm, keep: "apps/web",
			gone:     []string{"node_modules/big", "node_modules/big-dep", "node_modules/admin", "node_modules/.bin/big"},
			kept:     []string{"node_modules/web", "node_modules/lib", "node_modules/ms", "node_modules/shared", "node_modules/root-dep", "node_modules/phantom", "node_modules/.package-lock.json", "apps/admin/package.json", "apps/admin/node_modules/nested"},
			packages: 3, workspaces: "apps/admin"},
		{name: "the other way round", files: npm, keep: "apps/admin",
			gone:     []string{"node_modules/lib", "node_modules/web"},
			kept:     []string{"node_modules/big", "node_modules/ms", "node_modules/shared", "node_modules/.bin/big"},
			packages: 2, workspaces: "apps/web,packages/lib"},
		{name: "pnpm store", files: pnpm, keep: "apps/web",
			gone:     []string{"node_modules/.pnpm/big@1", "node_modules/.pnpm/node_modules/big", "node_modules/.pnpm/big-dep@1"},
			kept:     []string{"node_modules/.pnpm/ms@1/node_modules/ms", "node_modules/.modules.yaml", "node_modules/.pnpm/node_modules/ms"},
			packages: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			layout(t, root, tt.files)
			pats, err := Patterns(root, []byte(`["apps/*","packages/*"]`))
			if err != nil {
				t.Fatal(err)
			}
			all, err := Find(root, pats)
			if err != nil {
				t.Fatal(err)
			}
			keep, ok := Lookup(all, tt.keep)
			if !ok {
				t.Fatalf("no workspace %s in %s", tt.keep, Describe(all))
			}
			got, err := Trim(root, all, keep)
			if err != nil {
				t.Fatal(err)
			}
			if got.Packages != tt.packages || strings.Join(got.Workspaces, ",") != tt.workspaces {
				t.Errorf("trimmed %+v, want %d packages and workspaces %q", got, tt.packages, tt.workspaces)
			}
			for _, p := range tt.gone {
				if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
					t.Errorf("%s is still there", p)
				}
			}
			for _, p := range tt.kept {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s is gone: %v", p, err)
				}
			}
		})
	}
}
