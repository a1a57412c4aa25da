package trace

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestPackageRoot(t *testing.T) {
	tests := map[string]string{
		"express/index.js":                         "express",
		"express/lib/router/index.js":              "express",
		"@scope/name/lib/a.js":                     "@scope/name",
		"a/node_modules/b/index.js":                "a/node_modules/b",
		"a/node_modules/@s/b/x/y.js":               "a/node_modules/@s/b",
		".pnpm/ms@2.1.3/node_modules/ms/index.js":  ".pnpm/ms@2.1.3/node_modules/ms",
		".pnpm/a@1/node_modules/@s/b/package.json": ".pnpm/a@1/node_modules/@s/b",
		".pnpm/lock.yaml":                          "",
		".bin/tsc":                                 "",
		".package-lock.json":                       "",
		"@scope/stray":                             "",
		"top.js":                                   "",
	}
	for rel, want := range tests {
		if got := PackageRoot(rel); got != want {
			t.Errorf("PackageRoot(%q) = %q, want %q", rel, got, want)
		}
	}
}

func TestPinFor(t *testing.T) {
	for node, want := range map[uint64]string{26: "1.11.5", 20: "1.11.5", 19: "0.30.4", 18: "0.30.4", 16: "", 12: ""} {
		p, ok := PinFor(node)
		if ok != (want != "") || p.Version != want {
			t.Errorf("PinFor(%d) = %v %v, want %q", node, p, ok, want)
		}
	}
}

// TestDecide is the keep/remove decision, one rule per case.
func TestDecide(t *testing.T) {
	file := func(rel string, size int64) Entry { return Entry{Rel: rel, Size: size} }
	link := func(rel, target string) Entry { return Entry{Rel: rel, Symlink: true, Target: target} }
	tests := []struct {
		name    string
		entries []Entry
		traced  []string
		whole   []string
		keep    []string
		removed int64 // bytes
	}{
		{name: "untraced code, docs and tests of a reached package go; its package.json and licence stay",
			entries: []Entry{file("qs/package.json", 1), file("qs/lib/index.js", 2), file("qs/lib/utils.js", 4), file("qs/test/parse.js", 8), file("qs/README.md", 16), file("qs/LICENSE.md", 32), file("qs/dist/qs.js", 64)},
			traced:  []string{"qs/lib/index.js"},
			keep:    []string{"qs/LICENSE.md", "qs/lib/index.js", "qs/package.json"}, removed: 4 + 8 + 16 + 64},
		{name: "a package nothing reaches goes whole",
			entries: []Entry{file("unused/package.json", 1), file("unused/index.js", 2), file("unused/LICENSE", 4), file("unused/data.bin", 8)},
			removed: 15},
		{name: "data a reached package may read at run time stays",
			entries: []Entry{file("tz/package.json", 1), file("tz/index.js", 2), file("tz/data/zones.bin", 4), file("tz/tz.wasm", 8), file("tz/types.d.ts", 16)},
			traced:  []string{"tz/index.js"},
			keep:    []string{"tz/data/zones.bin", "tz/index.js", "tz/package.json", "tz/tz.wasm"}, removed: 16},
		{name: "a package kept whole keeps everything but its nested packages",
			entries: []Entry{file("dyn/package.json", 1), file("dyn/a.js", 2), file("dyn/test/t.js", 4), file("dyn/node_modules/n/package.json", 8), file("dyn/node_modules/n/index.js", 16)},
			whole:   []string{"dyn"},
			keep:    []string{"dyn/a.js", "dyn/package.json", "dyn/test/t.js"}, removed: 24},
		{name: "a native addon keeps its package whole, reached or not",
			entries: []Entry{file("addon/package.json", 1), file("addon/build/Release/addon.node", 2), file("addon/lib/index.js", 4)},
			keep:    []string{"addon/build/Release/addon.node", "addon/lib/index.js", "addon/package.json"}},
		{name: "every package.json above a kept file stays: nested type scopes and enclosing packages",
			entries: []Entry{file("a/package.json", 1), file("a/node_modules/b/package.json", 2), file("a/node_modules/b/esm/package.json", 4), file("a/node_modules/b/esm/index.js", 8), file("a/index.js", 16)},
			traced:  []string{"a/node_modules/b/esm/index.js"},
			keep:    []string{"a/node_modules/b/esm/index.js", "a/node_modules/b/esm/package.json", "a/node_modules/b/package.json", "a/package.json"}, removed: 16},
		{name: "pnpm: links stay when their target does, dangle otherwise",
			entries: []Entry{file(".pnpm/ms@2/node_modules/ms/package.json", 1), file(".pnpm/ms@2/node_modules/ms/index.js", 2), link("ms", ".pnpm/ms@2/node_modules/ms"),
				file(".pnpm/x@1/node_modules/x/index.js", 4), link("x", ".pnpm/x@1/node_modules/x"), link(".bin/ms", ".pnpm/ms@2/node_modules/ms/index.js"), file(".modules.yaml", 8)},
			traced: []string{"ms", ".pnpm/ms@2/node_modules/ms/index.js"},
			keep:   []string{".bin/ms", ".modules.yaml", ".pnpm/ms@2/node_modules/ms/index.js", ".pnpm/ms@2/node_modules/ms/package.json", "ms"}, removed: 4},
		{name: "a workspace link into the app stays",
			entries: []Entry{{Rel: "@fx/format", Symlink: true, Outside: true}},
			keep:    []string{"@fx/format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			traced := map[string]bool{}
			for _, p := range tt.traced {
				traced[p] = true
			}
			plan := Decide(tt.entries, traced, tt.whole)
			var keep []string
			for p := range plan.Keep {
				keep = append(keep, p)
			}
			sort.Strings(keep)
			if strings.Join(keep, ",") != strings.Join(tt.keep, ",") {
				t.Errorf("keep %v\nwant %v", keep, tt.keep)
			}
			if plan.RemovedBytes != tt.removed {
				t.Errorf("removed %d bytes, want %d", plan.RemovedBytes, tt.removed)
			}
		})
	}
}

// TestScanApply lists a tree with a relative and an outside symlink and copies what stays.
func TestScanApply(t *testing.T) {
	root := t.TempDir()
	tree := filepath.Join(root, "node_modules")
	testenv.WriteFiles(t, tree, map[string]string{"a/package.json": `{"name":"a"}`, "a/index.js": "x", "a/README.md": "docs"})
	if err := os.Symlink("a", filepath.Join(tree, "alias")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(tree, "ws")); err != nil {
		t.Fatal(err)
	}
	entries, err := Scan(tree)
	if err != nil {
		t.Fatal(err)
	}
	plan := Decide(entries, map[string]bool{"a/index.js": true}, nil)
	dst := filepath.Join(t.TempDir(), "node_modules")
	if err := Apply(tree, dst, entries, plan.Keep); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"a/index.js": true, "a/package.json": true, "a/README.md": false, "alias/index.js": true, "ws": true} {
		if _, err := os.Stat(filepath.Join(dst, p)); (err == nil) != want {
			t.Errorf("%s present = %v, want %v", p, err == nil, want)
		}
	}
	if plan.RemovedFiles != 1 || plan.RemovedBytes != 4 {
		t.Errorf("removed %d files, %d bytes; want 1, 4", plan.RemovedFiles, plan.RemovedBytes)
	}
}
