package node

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/testenv"
)

func TestRunsNextBuild(t *testing.T) {
	tests := []struct {
		scripts map[string]string
		run     []string
		want    bool
	}{
		{map[string]string{"build": "next build"}, []string{"build"}, true},
		{map[string]string{"build": "next build --turbopack"}, []string{"build"}, true},
		{map[string]string{"build": "prisma generate && next build"}, []string{"build"}, true},
		{map[string]string{"build": "NODE_OPTIONS=--max-old-space-size=4096 next build"}, []string{"build"}, true},
		{map[string]string{"build": "tsc", "next": "next build"}, []string{"build"}, false},
		{map[string]string{"build": "next lint"}, []string{"build"}, false},
		{map[string]string{"build": "vite build"}, []string{"build"}, false},
	}
	for _, tt := range tests {
		if got := runsNextBuild(tt.scripts, tt.run); got != tt.want {
			t.Errorf("runsNextBuild(%v, %v) = %v, want %v", tt.scripts, tt.run, got, tt.want)
		}
	}
}

func TestStartsNext(t *testing.T) {
	start := func(cmd string) startCommand {
		return startCommand{Type: "web", Command: cmd, Source: "package.json scripts.start"}
	}
	tests := []struct {
		name string
		cmds []startCommand
		want bool
	}{
		{"no start command", nil, true},
		{"next start", []startCommand{start("next start")}, true},
		{"next start with a port", []startCommand{start("next start -p $PORT")}, true},
		{"custom server", []startCommand{start("node server.js")}, false},
		{"Procfile", []startCommand{{Type: "web", Command: "next start", Source: "Procfile"}}, false},
		{"prestart hook", []startCommand{{Type: "web", Command: "next start", Source: "package.json scripts.start", Pre: "node migrate.js"}}, false},
		{"two commands", []startCommand{start("node migrate.js && next start")}, false},
	}
	for _, tt := range tests {
		if got := startsNext(tt.cmds); got != tt.want {
			t.Errorf("%s: startsNext = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFindNextOutput(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    nextOutput // DistDir relative to the app
		wantErr string
	}{
		{"standalone", map[string]string{".next/required-server-files.json": `{"config":{"output":"standalone","distDir":".next"}}`}, nextOutput{DistDir: ".next", Output: "standalone"}, ""},
		{"distDir", map[string]string{"build/required-server-files.json": `{"config":{"output":"standalone"}}`, "node_modules/x/required-server-files.json": `{}`}, nextOutput{DistDir: "build", Output: "standalone"}, ""},
		{"no output", map[string]string{".next/required-server-files.json": `{"config":{}}`}, nextOutput{DistDir: ".next"}, ""},
		{"not built", map[string]string{"app/page.js": ``}, nextOutput{}, "next build wrote no required-server-files.json"},
		{"malformed", map[string]string{".next/required-server-files.json": `{`}, nextOutput{}, "is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, tt.files)
			got, err := findNextOutput(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.DistDir = filepath.Join(dir, tt.want.DistDir); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStandaloneServer(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		want    string
		wantErr bool
	}{
		{"app at the root", []string{"server.js", ".next/required-server-files.json", "node_modules/next/server.js"}, "server.js", false},
		{"monorepo", []string{"node_modules/x/server.js", "apps/web/server.js", "apps/web/.next/required-server-files.json"}, "apps/web/server.js", false},
		{"no server", []string{".next/required-server-files.json"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for _, f := range tt.files {
				files[f] = "{}"
			}
			testenv.WriteFiles(t, dir, files)
			got, err := standaloneServer(dir, ".next")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != filepath.Join(dir, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNextServingFor(t *testing.T) {
	tests := []struct {
		output string
		want   bool
		serve  nextServing
	}{
		{"", true, serveNextStart}, // a Next.js that does not read NEXT_PRIVATE_STANDALONE
		{"standalone", true, serveStandalone},
		{"standalone", false, serveNextStart}, // BP_NEXT_STANDALONE=false wins over next.config
		{"export", true, serveExport},
		{"export", false, serveExport}, // a static export never needs Node.js
		{"", false, serveNextStart},
	}
	for _, tt := range tests {
		if got := nextServingFor(tt.output, tt.want); got != tt.serve {
			t.Errorf("nextServingFor(%q, %v) = %d, want %d", tt.output, tt.want, got, tt.serve)
		}
	}
}

func TestWantStandalone(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    bool
		wantErr string
	}{
		{nil, true, ""},
		{map[string]string{"BP_NEXT_STANDALONE": ""}, true, ""},
		{map[string]string{"BP_NEXT_STANDALONE": "false"}, false, ""},
		{map[string]string{"BP_NEXT_STANDALONE": " 0 "}, false, ""},
		{map[string]string{"BP_NEXT_STANDALONE": "true"}, true, ""},
		{map[string]string{"BP_NEXT_STANDALONE": "no"}, false, `BP_NEXT_STANDALONE="no": want true or false`},
	}
	for _, tt := range tests {
		got, err := wantStandalone(buildpack.Config(tt.env))
		if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) || (err == nil && got != tt.want) {
			t.Errorf("%v: %v, %v; want %v, %q", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestExportDir(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    string // relative to the app
		wantErr string
	}{
		{"out", map[string]string{".next/export-detail.json": `{"version":1,"outDirectory":"APP/out","success":true}`, "out/index.html": ""}, "out", ""},
		{"distDir", map[string]string{".next/export-detail.json": `{"outDirectory":"APP/build","success":true}`, "build/index.html": ""}, "build", ""},
		{"relative", map[string]string{".next/export-detail.json": `{"outDirectory":"site","success":true}`, "site/index.html": ""}, "site", ""},
		{"failed", map[string]string{".next/export-detail.json": `{"outDirectory":"APP/out","success":false}`, "out/index.html": ""}, "", "did not succeed"},
		{"outside", map[string]string{".next/export-detail.json": `{"outDirectory":"/srv/site","success":true}`}, "", "is not inside the app directory"},
		{"the app itself", map[string]string{".next/export-detail.json": `{"outDirectory":"APP","success":true}`}, "", "is not inside the app directory"},
		{"missing", map[string]string{".next/export-detail.json": `{"outDirectory":"APP/out","success":true}`}, "", "is not a directory"},
		{"no detail", map[string]string{"out/index.html": ""}, "", "which next build writes after a static export"},
		{"malformed", map[string]string{".next/export-detail.json": `{`}, "", "is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := t.TempDir()
			files := map[string]string{}
			for k, v := range tt.files {
				files[k] = strings.ReplaceAll(v, "APP", app)
			}
			testenv.WriteFiles(t, app, files)
			got, err := exportDir(filepath.Join(app, ".next"), app)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != filepath.Join(app, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestReplaceApp leaves the app directory holding the export's files only.
func TestReplaceApp(t *testing.T) {
	for _, siteRel := range []string{"out", "apps/web/out"} {
		app := t.TempDir()
		testenv.WriteFiles(t, app, map[string]string{
			"package.json": "{}", "app/page.js": "", ".next/cache/x": "", siteRel + "/index.html": "home",
			siteRel + "/about.html": "about", siteRel + "/_next/static/a.js": "js",
		})
		if err := os.Symlink(t.TempDir(), filepath.Join(app, "node_modules")); err != nil {
			t.Fatal(err)
		}
		if err := replaceApp(app, filepath.Join(app, siteRel)); err != nil {
			t.Fatal(err)
		}
		var got []string
		err := filepath.WalkDir(app, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(app, p)
				got = append(got, rel)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"_next/static/a.js", "about.html", "index.html"}; !slices.Equal(got, want) {
			t.Errorf("site %s: the app holds %v, want %v", siteRel, got, want)
		}
	}
}

func TestCacheOnly(t *testing.T) {
	result := libcnb.NewBuildResult()
	result.Layers = []libcnb.Layer{
		{Name: LayerRuntime, LayerTypes: libcnb.LayerTypes{Launch: true, Cache: true}},
		{Name: LayerStaticServer, LayerTypes: libcnb.LayerTypes{Launch: true, Cache: true}},
	}
	r := &buildRun{result: &result}
	r.cacheOnly(LayerRuntime)
	if got := result.Layers[0].LayerTypes; got != (libcnb.LayerTypes{Cache: true}) {
		t.Errorf("%s: %+v, want cache only", LayerRuntime, got)
	}
	if got := result.Layers[1].LayerTypes; !got.Launch {
		t.Errorf("%s: %+v, want launch kept", LayerStaticServer, got)
	}
}
