package golang

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

var sharedGoCache string

// TestMain shares one GOCACHE between the real builds (each links <layers>/go-cache to it), so the
// standard library compiles once.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "distill-go-test-gocache")
	if err != nil {
		panic(err)
	}
	sharedGoCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func linkSharedGoCache(t *testing.T, layers string) {
	t.Helper()
	if err := os.MkdirAll(layers, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sharedGoCache, filepath.Join(layers, LayerGoCache)); err != nil {
		t.Fatal(err)
	}
}

type recordingExit struct{ err error }

func (r *recordingExit) Error(err error) { r.err = err }
func (r *recordingExit) Fail()           {}
func (r *recordingExit) Pass()           {}

// copyDir copies the fixture tree src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func requireGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go on PATH")
	}
}

// TestBuildFixture runs the buildpack's real build entry point (libpak/libcnb main, as the
// lifecycle would run bin/build) on testdata/hello with the go on PATH as the bootstrap go.
func TestBuildFixture(t *testing.T) {
	requireGo(t)
	bpDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	app, layers, platform := filepath.Join(root, "workspace"), filepath.Join(root, "layers"), filepath.Join(root, "platform")
	copyDir(t, "testdata/hello", app)
	for _, d := range []string{layers, filepath.Join(platform, "env")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	linkSharedGoCache(t, layers)
	t.Setenv("CNB_BUILDPACK_DIR", bpDir)
	t.Setenv("CNB_LAYERS_DIR", layers)
	t.Setenv("CNB_PLATFORM_DIR", platform)
	t.Setenv("CNB_BP_PLAN_PATH", filepath.Join(root, "plan.toml"))
	t.Setenv("BP_KEEP_FILES", "assets/*")
	t.Setenv("BP_GO_VERSION", "")
	t.Setenv("BP_GO_TARGETS", "")
	t.Setenv("BP_GO_BUILD_FLAGS", "")
	t.Setenv("BP_GO_BUILD_LDFLAGS", "")
	os.Unsetenv("CGO_ENABLED")
	t.Chdir(app)

	var out bytes.Buffer
	exit := &recordingExit{}
	libpak.BuildpackMain(
		Detector{Logger: log.NewPaketoLogger(&out)}.Detect,
		(&Builder{Logger: log.NewPaketoLogger(&out)}).Build,
		libcnb.WithArguments([]string{"/cnb/buildpacks/distill_go/1.0.0/bin/build"}),
		libcnb.WithExitHandler(exit),
	)
	t.Log(out.String())
	if exit.err != nil {
		t.Fatalf("build failed: %v", exit.err)
	}

	// The binary: built, runs, stripped.
	bin := filepath.Join(layers, "app", "bin", "hello")
	run, err := exec.Command(bin).CombinedOutput()
	if err != nil || !strings.Contains(string(run), "hello from distill/go") {
		t.Fatalf("running %s: %v\n%s", bin, err, run)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s has a .symtab section: not stripped", bin)
	}
	f.Close()

	// Layer metadata.
	var appToml struct {
		Types struct{ Build, Cache, Launch bool } `toml:"types"`
	}
	if _, err := toml.DecodeFile(filepath.Join(layers, "app.toml"), &appToml); err != nil {
		t.Fatal(err)
	}
	if !appToml.Types.Launch || appToml.Types.Build || !appToml.Types.Cache {
		t.Errorf("app.toml types = %+v, want launch and cache (an unchanged app is not built again)", appToml.Types)
	}
	for _, name := range []string{"go-cache", "go-mod"} {
		var lt struct {
			Types struct{ Build, Cache, Launch bool } `toml:"types"`
		}
		if _, err := toml.DecodeFile(filepath.Join(layers, name+".toml"), &lt); err != nil {
			t.Fatal(err)
		}
		if !lt.Types.Cache || lt.Types.Launch || lt.Types.Build {
			t.Errorf("%s.toml types = %+v, want cache only", name, lt.Types)
		}
	}
	if _, err := os.Stat(filepath.Join(layers, "go.toml")); !os.IsNotExist(err) {
		t.Errorf("go.toml written although the bootstrap go was used: %v", err)
	}

	// Launch metadata.
	var launch struct {
		Processes []struct {
			Type    string   `toml:"type"`
			Command []string `toml:"command"`
			Default bool     `toml:"default"`
		} `toml:"processes"`
	}
	if _, err := toml.DecodeFile(filepath.Join(layers, "launch.toml"), &launch); err != nil {
		t.Fatal(err)
	}
	if len(launch.Processes) != 1 || launch.Processes[0].Type != "web" || !launch.Processes[0].Default ||
		len(launch.Processes[0].Command) != 1 || launch.Processes[0].Command[0] != bin {
		t.Errorf("launch.toml processes = %+v", launch.Processes)
	}

	// SBOM.
	raw, err := os.ReadFile(filepath.Join(layers, "app.sbom.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Type, Name, Version, Purl string
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &bom); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, c := range bom.Components {
		names[c.Name] = c.Purl
	}
	if bom.BOMFormat != "CycloneDX" || names["example.com/hello"] != "pkg:golang/example.com/hello" || !strings.HasPrefix(names["stdlib"], "pkg:golang/stdlib@1.") {
		t.Errorf("unexpected SBOM: %s", raw)
	}

	// Source removed, BP_KEEP_FILES honoured.
	var left []string
	filepath.WalkDir(app, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(app, p)
			left = append(left, rel)
		}
		return nil
	})
	if len(left) != 1 || left[0] != filepath.Join("assets", "index.html") {
		t.Errorf("app dir holds %v, want only assets/index.html", left)
	}

	logs := out.String()
	for _, want := range []string{"from the build image", "CGO_ENABLED=0 go build -o " + bin + " -trimpath -buildvcs=false '-ldflags=-s -w' .", "Built 1 binary"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestBuildCompileError(t *testing.T) {
	requireGo(t)
	root := t.TempDir()
	app, layers := filepath.Join(root, "app"), filepath.Join(root, "layers")
	writeFile(t, filepath.Join(app, "go.mod"), "module example.com/broken\n\ngo 1.22\n")
	writeFile(t, filepath.Join(app, "main.go"), "package main\n\nfunc main() {\n\tundefinedThing()\n}\n")
	linkSharedGoCache(t, layers)
	for _, k := range []string{"BP_GO_VERSION", "BP_GO_TARGETS", "BP_GO_BUILD_FLAGS", "BP_GO_BUILD_LDFLAGS", "BP_KEEP_FILES"} {
		t.Setenv(k, "")
	}
	var out bytes.Buffer
	_, err := (&Builder{Logger: log.NewPaketoLogger(&out)}).Build(libcnb.BuildContext{
		ApplicationPath: app,
		Layers:          libcnb.Layers{Path: layers},
	})
	if err == nil || !strings.Contains(err.Error(), "undefined: undefinedThing") || !strings.Contains(err.Error(), "go build . failed") {
		t.Fatalf("err = %v, want the compiler's output", err)
	}
	if _, statErr := os.Stat(filepath.Join(app, "main.go")); statErr != nil {
		t.Errorf("source removed after a failed build: %v", statErr)
	}
}

// TestReuseCachedToolchain checks that a go layer holding the requested version is reused
// without running anything.
func TestReuseCachedToolchain(t *testing.T) {
	layers := t.TempDir()
	root := filepath.Join(layers, "go", "mod", "golang.org", "toolchain@v0.0.1-go1.99.1.linux-amd64")
	writeFile(t, filepath.Join(root, "bin", "go"), "#!/bin/false\n")
	l := libcnb.Layers{Path: layers}
	layer, err := l.Layer(LayerGo)
	if err != nil {
		t.Fatal(err)
	}
	layer.Metadata = map[string]interface{}{"version": "1.99.1", "arch": "amd64", "goroot": "mod/golang.org/toolchain@v0.0.1-go1.99.1.linux-amd64"}

	var out bytes.Buffer
	b := &Builder{Logger: log.NewPaketoLogger(&out)}
	bootstrap := goTool{Bin: "/nonexistent/go", Version: goVersion{Major: 1, Minor: 24, Patch: 4, HasPatch: true}, OS: "linux", Arch: "amd64"}
	tests := []struct {
		name   string
		req    string
		kind   matchKind
		reused bool
	}{
		{"exact", "1.99.1", matchExact, true},
		{"line", "1.99", matchLine, true},
		{"at least", "1.99", matchAtLeast, true},
		{"bootstrap satisfies", "1.22", matchAtLeast, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out.Reset()
			v, _ := parseGoVersion(tt.req)
			lay := layer
			tool, used, err := b.resolveGo(versionRequest{Version: v, Kind: tt.kind, Source: "test"}, true, bootstrap, &lay)
			if err != nil {
				t.Fatal(err)
			}
			if used != tt.reused {
				t.Fatalf("used layer = %v, want %v", used, tt.reused)
			}
			if tt.reused {
				if tool.Root != root || tool.Version.String() != "1.99.1" || !lay.Cache || !lay.Build || lay.Launch {
					t.Errorf("tool = %+v, layer types = %+v", tool, lay.LayerTypes)
				}
				if !strings.Contains(out.String(), "Reusing cached Go 1.99.1") {
					t.Errorf("log = %q", out.String())
				}
			} else if tool.Bin != bootstrap.Bin {
				t.Errorf("tool = %+v, want bootstrap", tool)
			}
		})
	}
}
