package berry

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name     string
		yarnrc   string // "" for no file
		env      string
		linker   string
		yarnPath string
		focus    map[string]bool // Yarn version -> CanFocus
		wantErr  string
	}{
		{name: "no .yarnrc.yml: pnp", linker: LinkerPnP, focus: map[string]bool{"3.2.2": false, "4.0.0": true, "": false}},
		{name: "node-modules", yarnrc: "nodeLinker: node-modules\nenableTelemetry: false\n", linker: LinkerNodeModules},
		{name: "quoted pnpm linker", yarnrc: "nodeLinker: \"pnpm\"\n", linker: LinkerPnpm},
		{name: "env wins", yarnrc: "nodeLinker: pnp\n", env: "node-modules", linker: LinkerNodeModules},
		{name: "yarnPath", yarnrc: "yarnPath: .yarn/releases/yarn-3.6.4.cjs\n", linker: LinkerPnP, yarnPath: ".yarn/releases/yarn-3.6.4.cjs"},
		{name: "workspace-tools plugin, long form", linker: LinkerPnP,
			yarnrc: "plugins:\n  - path: .yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs\n    spec: \"@yarnpkg/plugin-workspace-tools\"\n",
			focus:  map[string]bool{"2.4.3": true, "3.2.2": true}},
		{name: "workspace-tools plugin, short form", linker: LinkerPnP,
			yarnrc: "plugins:\n  - .yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs\n", focus: map[string]bool{"3.2.2": true}},
		{name: "other plugin", linker: LinkerPnP, yarnrc: "plugins:\n  - .yarn/plugins/@yarnpkg/plugin-typescript.cjs\n", focus: map[string]bool{"3.2.2": false}},
		{name: "broken YAML", yarnrc: "nodeLinker: [\n", wantErr: ".yarnrc.yml is not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.yarnrc != "" {
				testenv.WriteFile(t, filepath.Join(dir, ".yarnrc.yml"), tt.yarnrc)
			}
			c, err := ReadConfig(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Linker(tt.env); got != tt.linker {
				t.Errorf("linker = %q, want %q", got, tt.linker)
			}
			if c.YarnPath != tt.yarnPath {
				t.Errorf("yarnPath = %q, want %q", c.YarnPath, tt.yarnPath)
			}
			for v, want := range tt.focus {
				if got := c.CanFocus(v); got != want {
					t.Errorf("CanFocus(%q) = %v, want %v", v, got, want)
				}
			}
		})
	}
}

func TestReleaseForLock(t *testing.T) {
	tests := []struct {
		name, lock, spec, why, wantErr string
	}{
		{name: "Yarn 2", lock: "__metadata:\n  version: 4\n", spec: "2.x", why: "format 4 is written by Yarn 2"},
		{name: "Yarn 3.0", lock: "__metadata:\n  version: 5\n  cacheKey: 8\n", spec: "3.x"},
		{name: "Yarn 3", lock: "# comment\n\n__metadata:\n  version: 6\n  cacheKey: 8\n\n\"ms@npm:^2.1.3\":\n  version: 2.1.3\n", spec: "3.x", why: "format 6 is written by Yarn 3"},
		{name: "Yarn 4", lock: "__metadata:\n  version: 8\n  cacheKey: 10c0\n", spec: "4.x"},
		{name: "Yarn 4 newer format", lock: "__metadata:\n  version: 10\n", spec: "4.x"},
		{name: "no metadata", lock: "\"ms@npm:^2\":\n  version: 2.1.3\n", spec: "4.x", why: "no __metadata.version"},
		{name: "not YAML", lock: "a: [\n", wantErr: "is not a Yarn Berry lock file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "yarn.lock")
			testenv.WriteFile(t, p, tt.lock)
			r, err := ReleaseForLock(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Spec != tt.spec || !strings.Contains(r.Why, tt.why) {
				t.Errorf("got %+v, want %s (%s)", r, tt.spec, tt.why)
			}
		})
	}
}

func TestProductionPrune(t *testing.T) {
	tests := []struct {
		name     string
		c        Config
		version  string
		args     string
		stripDev bool
		env      []string
	}{
		{name: "Yarn 4 focuses", version: "4.18.1", args: "workspaces focus --all --production", env: []string{"YARN_ENABLE_SCRIPTS=false"}},
		{name: "Yarn 3 installs without devDependencies", version: "3.2.2", args: "install", stripDev: true, env: []string{"YARN_ENABLE_IMMUTABLE_INSTALLS=false", "YARN_ENABLE_SCRIPTS=false"}},
		{name: "Yarn 3 with the plugin focuses", version: "3.2.2", c: Config{Plugins: []Plugin{{Path: ".yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs"}}}, args: "workspaces focus --all --production", env: []string{"YARN_ENABLE_SCRIPTS=false"}},
		{name: "yarnPath release of unknown version", version: "yarnPath", args: "install", stripDev: true, env: []string{"YARN_ENABLE_IMMUTABLE_INSTALLS=false", "YARN_ENABLE_SCRIPTS=false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ProductionPrune(tt.c, tt.version)
			var env []string
			for k, v := range p.Env {
				env = append(env, k+"="+v)
			}
			slices.Sort(env)
			if strings.Join(p.Args, " ") != tt.args || p.StripDev != tt.stripDev || !slices.Equal(env, tt.env) {
				t.Errorf("got %+v, want %q strip=%v env %v", p, tt.args, tt.stripDev, tt.env)
			}
		})
	}
}

func TestStripDevDependencies(t *testing.T) {
	app := t.TempDir()
	files := map[string]string{
		"package.json":            "{\n  \"name\": \"root\",\n  \"devDependencies\": {\"uglify-js\": \"^3\"},\n  \"dependencies\": {\"ms\": \"^2\"}\n}\n",
		"packages/a/package.json": "{\"name\": \"a\", \"devDependencies\": {\"typescript\": \"^5\"}}",
		"packages/b/package.json": "{\"name\": \"b\"}",
		"yarn.lock":               "__metadata:\n  version: 6\n",
	}
	for name, content := range files {
		testenv.WriteFile(t, filepath.Join(app, name), content)
	}
	restore, err := StripDevDependencies(app, []string{".", "packages/a", "packages/b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"package.json", "packages/a/package.json"} {
		data, _ := os.ReadFile(filepath.Join(app, name))
		if strings.Contains(string(data), "devDependencies") {
			t.Errorf("%s still has devDependencies:\n%s", name, data)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(app, "package.json")); !strings.Contains(string(data), `"ms": "^2"`) {
		t.Errorf("package.json lost its dependencies:\n%s", data)
	}
	testenv.WriteFile(t, filepath.Join(app, "yarn.lock"), "rewritten by the install\n")
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if data, _ := os.ReadFile(filepath.Join(app, name)); string(data) != content {
			t.Errorf("%s not restored:\n%s", name, data)
		}
	}

	if _, err := StripDevDependencies(app, []string{"missing"}); err == nil || !strings.Contains(err.Error(), "missing/package.json") {
		t.Errorf("a missing workspace manifest: err = %v", err)
	}
}

func TestPnP(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // app files
		zips    []string
		kept    []string
		loader  bool
		removed int
	}{
		{name: "inlined data", files: map[string]string{PnPFile: `"packageLocation": "../layers/x/yarn-cache/ms-npm-2.1.3-fd-aa92de6080.zip/node_modules/ms/"`},
			zips: []string{"ms-npm-2.1.3-fd-aa92de6080.zip", "uglify-js-npm-3.19.3-a1-7ed6272fba.zip"}, kept: []string{"ms-npm-2.1.3-fd-aa92de6080.zip"}, removed: 1},
		{name: "data file and loader", files: map[string]string{PnPFile: "require('./.pnp.data.json')", PnPDataFile: `["ms-npm-2.1.3-fd-aa92de6080.zip"]`, PnPLoaderFile: "export {}"},
			zips: []string{"ms-npm-2.1.3-fd-aa92de6080.zip"}, kept: []string{"ms-npm-2.1.3-fd-aa92de6080.zip"}, loader: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, cache := t.TempDir(), t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(app, name), content)
			}
			for _, z := range tt.zips {
				testenv.WriteFile(t, filepath.Join(cache, z), "zip")
			}
			testenv.WriteFile(t, filepath.Join(cache, ".gitignore"), "*")
			p := PnP{AppDir: app}
			if !p.Installed() {
				t.Fatal("Installed() = false with .pnp.cjs present")
			}
			kept, removed, err := p.PruneCache(cache)
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			entries, _ := os.ReadDir(cache)
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".zip") {
					left = append(left, e.Name())
				}
			}
			if kept != len(tt.kept) || removed != tt.removed || !slices.Equal(left, tt.kept) {
				t.Errorf("kept %d removed %d, left %v; want %v and %d removed", kept, removed, left, tt.kept, tt.removed)
			}
			flags := strings.Join(p.NodeFlags(), " ")
			want := "--require " + filepath.Join(app, PnPFile)
			if tt.loader {
				want += " --experimental-loader file://" + filepath.Join(app, PnPLoaderFile)
			}
			if flags != want {
				t.Errorf("NodeFlags = %q, want %q", flags, want)
			}
		})
	}
	if (PnP{AppDir: t.TempDir()}).Installed() {
		t.Error("Installed() = true without .pnp.cjs")
	}
}

func TestCachedPackages(t *testing.T) {
	lock := `__metadata:
  version: 8
  cacheKey: 10c0

"@scope/lib@npm:^1.0.0":
  version: 1.2.0
  resolution: "@scope/lib@npm:1.2.0"
  checksum: 10c0/0123456789abcdef
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  languageName: unknown
  linkType: soft

"ms@npm:^2.1.3":
  version: 2.1.3
  resolution: "ms@npm:2.1.3"
  checksum: 10c0/d924b57e7312b3b63ad21fc5b3dc0af5e78d61a1
  languageName: node
  linkType: hard

"uglify-js@npm:^3.19.3":
  version: 3.19.3
  resolution: "uglify-js@npm:3.19.3"
  checksum: 83b0a90eca35f778e07cad9622b80c448b6aad45
  languageName: node
  linkType: hard
`
	tests := []struct {
		name string
		zips []string
		want string
	}{
		{name: "production zips only", zips: []string{"ms-npm-2.1.3-81ff3cfac1-d924b57e73.zip", "@scope-lib-npm-1.2.0-0a0a0a0a0a-0123456789.zip"}, want: "@scope/lib@1.2.0 ms@2.1.3"},
		{name: "Yarn 3 checksums without a cache key", zips: []string{"uglify-js-npm-3.19.3-d73835bac2-83b0a90eca.zip"}, want: "uglify-js@3.19.3"},
		{name: "empty cache", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, cache := t.TempDir(), t.TempDir()
			testenv.WriteFile(t, filepath.Join(app, "yarn.lock"), lock)
			for _, z := range tt.zips {
				testenv.WriteFile(t, filepath.Join(cache, z), "zip")
			}
			pkgs, err := CachedPackages(filepath.Join(app, "yarn.lock"), cache)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pkgs {
				got = append(got, p.Name+"@"+p.Version)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}
