package node

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

func TestNextCacheRestorable(t *testing.T) {
	want := nextCacheMeta{Key: "k1", Next: "15.1.0"}
	saved := map[string]interface{}{"key": "k1", "next": "15.1.0", "dist": ".next"}
	with := func(k string, v interface{}) map[string]interface{} {
		m := map[string]interface{}{}
		for kk, vv := range saved {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name     string
		have     map[string]interface{}
		want     nextCacheMeta
		saved    bool
		wantDist string
	}{
		{"same key and version", saved, want, true, ".next"},
		{"custom distDir", with("dist", "build/out"), want, true, "build/out"},
		{"no files saved", saved, want, false, ""},
		{"no metadata", nil, want, true, ""},
		{"next upgraded", with("next", "15.0.3"), want, true, ""},
		{"lock file changed", with("key", "k0"), want, true, ""},
		{"no next package", saved, nextCacheMeta{Key: "k1"}, true, ""},
		{"dist outside the app", with("dist", "../elsewhere"), want, true, ""},
		{"absolute dist", with("dist", "/tmp/x"), want, true, ""},
		{"dist is the app", with("dist", "."), want, true, ""},
		{"dist not a string", with("dist", 3), want, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dist, why := nextCacheRestorable(tc.have, tc.want, tc.saved)
			if dist != tc.wantDist {
				t.Errorf("dist = %q (%s), want %q", dist, why, tc.wantDist)
			}
			if (dist == "") != (why != "") {
				t.Errorf("dist %q with reason %q: want a reason exactly when nothing is restored", dist, why)
			}
		})
	}
}

// TestNextCacheRoundTrip saves a build's .next/cache into the layer and restores it into the next
// build, then drops it when the Next.js version changes.
func TestNextCacheRoundTrip(t *testing.T) {
	layers, app := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nextPkg := filepath.Join(app, "node_modules", "next", "package.json")
	write(nextPkg, `{"version":"15.1.0"}`)
	var out bytes.Buffer
	b := &Builder{Logger: log.NewPaketoLogger(&out)}
	run := func(metadata map[string]interface{}) *buildRun {
		result := libcnb.NewBuildResult()
		r := &buildRun{appDir: app, result: &result, plan: modulesPlan{Key: "k1"}, next: &nextApp{Dir: app}}
		r.ctx.Layers = libcnb.Layers{Path: layers}
		if metadata != nil {
			write(filepath.Join(layers, LayerNextCache+".toml"), "[metadata]\nkey = \"k1\"\nnext = \""+metadata["next"].(string)+"\"\ndist = \".next\"\n")
		}
		if err := b.restoreNextCache(r); err != nil {
			t.Fatal(err)
		}
		return r
	}

	r := run(nil)
	write(filepath.Join(app, ".next", nextServerFiles), `{"config":{"output":"standalone"}}`)
	write(filepath.Join(app, ".next", "cache", "webpack", "a.pack"), "compiled")
	if err := b.saveNextCache(r); err != nil {
		t.Fatal(err)
	}
	if len(r.result.Layers) != 1 || r.result.Layers[0].LayerTypes != (libcnb.LayerTypes{Cache: true}) {
		t.Fatalf("layers %+v, want the next-cache layer, cache only", r.result.Layers)
	}
	if fileExists(filepath.Join(app, ".next", "cache")) {
		t.Errorf(".next/cache is still in the app after saving: it would enter the image")
	}
	if got := r.result.Layers[0].Metadata; got["dist"] != ".next" || got["next"] != "15.1.0" || got["key"] != "k1" {
		t.Errorf("metadata %v", got)
	}

	if err := os.RemoveAll(filepath.Join(app, ".next")); err != nil {
		t.Fatal(err)
	}
	run(map[string]interface{}{"next": "15.1.0"})
	if data, err := os.ReadFile(filepath.Join(app, ".next", "cache", "webpack", "a.pack")); err != nil || string(data) != "compiled" {
		t.Errorf("restored cache: %q, %v", data, err)
	}

	if err := os.RemoveAll(filepath.Join(app, ".next")); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(layers, LayerNextCache, nextCacheDir, "x"), "old")
	write(nextPkg, `{"version":"15.2.0"}`)
	run(map[string]interface{}{"next": "15.1.0"})
	if fileExists(filepath.Join(app, ".next", "cache")) || fileExists(filepath.Join(layers, LayerNextCache)) {
		t.Errorf("a cache of another Next.js version was restored or kept")
	}
}

// TestModulesForScripts checks how the build scripts get the reused tree, and that it is back in
// its layer, whole, after them: a link, or for a Next.js standalone build the tree itself.
func TestModulesForScripts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		next     *nextApp
		wantLink bool
	}{
		{"not Next.js: a link", nil, true},
		{"Next.js without standalone: a link", &nextApp{WantStandalone: false}, true},
		{"Next.js standalone: the tree moved in", &nextApp{WantStandalone: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, layer := t.TempDir(), t.TempDir()
			tree := filepath.Join(layer, "node_modules")
			if err := os.MkdirAll(filepath.Join(tree, "next"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(tree, "next", "package.json"), []byte(`{}`), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			b := &Builder{Logger: log.NewPaketoLogger(&out)}
			giveBack, err := b.modulesForScripts(&buildRun{appDir: app, next: tc.next}, tree)
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Lstat(filepath.Join(app, "node_modules"))
			if err != nil {
				t.Fatal(err)
			}
			if isLink := fi.Mode()&os.ModeSymlink != 0; isLink != tc.wantLink {
				t.Errorf("<app>/node_modules is a link: %v, want %v", isLink, tc.wantLink)
			}
			if !fileExists(filepath.Join(app, "node_modules", "next", "package.json")) {
				t.Errorf("the scripts do not see the tree's packages")
			}
			if err := giveBack(); err != nil {
				t.Fatal(err)
			}
			if !fileExists(filepath.Join(tree, "next", "package.json")) {
				t.Errorf("the tree is not back in its layer")
			}
			if !tc.wantLink && fileExists(filepath.Join(app, "node_modules")) {
				t.Errorf("<app>/node_modules is left behind after a Next.js standalone build")
			}
		})
	}
}
