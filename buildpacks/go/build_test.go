package golang

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/testenv"
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

// hostGoIsNewest is a toolchain lister that offers only the go on PATH, so builds in unit tests
// choose it and download nothing.
func hostGoIsNewest(t *testing.T) toolchainLister {
	t.Helper()
	out, err := exec.Command("go", "env", "GOVERSION", "GOHOSTOS", "GOHOSTARCH").Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	return func(goTool, string) ([]string, error) {
		return []string{"v0.0.1-" + f[0] + "." + f[1] + "-" + f[2]}, nil
	}
}

func requireGo(t *testing.T) {
	t.Helper()
	testenv.NeedCommand(t, "go", "the Go toolchain builds the fixtures")
}

// TestBuildFixture runs the buildpack's real build entry point (libpak/libcnb main, as the
// lifecycle would run bin/build) on testdata/hello with the go on PATH as the bootstrap go.
func TestBuildFixture(t *testing.T) {
	testenv.Slow(t, "compiles the fixture with the Go toolchain (tens of seconds)")
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
		(&Builder{Logger: log.NewPaketoLogger(&out), ListToolchains: hostGoIsNewest(t)}).Build,
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
	for _, want := range []string{"from the build image: the newest Go satisfying >= 1.22.0 (go.mod go directive)", "CGO_ENABLED=0 go build -o " + bin + " -trimpath -buildvcs=false '-ldflags=-s -w' .", "Built 1 binary"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestBuildCompileError(t *testing.T) {
	testenv.Slow(t, "compiles with the Go toolchain")
	requireGo(t)
	root := t.TempDir()
	app, layers := filepath.Join(root, "app"), filepath.Join(root, "layers")
	testenv.WriteFile(t, filepath.Join(app, "go.mod"), "module example.com/broken\n\ngo 1.22\n")
	testenv.WriteFile(t, filepath.Join(app, "main.go"), "package main\n\nfunc main() {\n\tundefinedThing()\n}\n")
	linkSharedGoCache(t, layers)
	for _, k := range []string{"BP_GO_VERSION", "BP_GO_TARGETS", "BP_GO_BUILD_FLAGS", "BP_GO_BUILD_LDFLAGS", "BP_KEEP_FILES"} {
		t.Setenv(k, "")
	}
	var out bytes.Buffer
	_, err := (&Builder{Logger: log.NewPaketoLogger(&out), ListToolchains: hostGoIsNewest(t)}).Build(libcnb.BuildContext{
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

// resolveGoCase is one case of TestResolveGo.
type resolveGoCase struct {
	name      string
	req       string
	kind      matchKind
	list      []string
	listErr   error
	meta      map[string]interface{} // lookup metadata in the layer
	local     bool                   // GOTOOLCHAIN=local
	want      string                 // "bootstrap" or "cached"
	wantLog   string
	wantListd bool // the proxy was asked
	wantErr   string
}

// resolveGoCases are the toolchain choices TestResolveGo checks, at time now.
func resolveGoCases(now time.Time) []resolveGoCase {
	listed := []string{"v0.0.1-go1.24.4.linux-amd64", "v0.0.1-go1.99.0.linux-amd64", "v0.0.1-go1.99.1.linux-amd64", "v0.0.1-go1.100rc1.linux-amd64"}
	onlyBootstrap := []string{"v0.0.1-go1.22.0.linux-amd64", "v0.0.1-go1.24.4.linux-amd64"}
	offline := errors.New("dial tcp: no route to host")
	lookup := func(req, result string, age time.Duration) map[string]interface{} {
		v, _ := parseGoVersion(req)
		key := lookupKey(versionRequest{Version: v, Kind: matchAtLeast})
		return map[string]interface{}{metaLookupRequest: key, metaLookupResult: result, metaLookupTime: now.Add(-age).Format(time.RFC3339)}
	}
	return []resolveGoCase{
		{name: "exact pin, cached", req: "1.99.1", kind: matchExact, want: "cached", wantLog: "Reusing cached Go 1.99.1: pinned by test"},
		{name: "exact pin is the bootstrap", req: "1.24.4", kind: matchExact, want: "bootstrap", wantLog: "Using Go 1.24.4 from the build image: pinned"},
		{name: "line takes newest patch", req: "1.99", kind: matchLine, list: listed, want: "cached", wantListd: true},
		{name: "minimum takes newest Go", req: "1.22", kind: matchAtLeast, list: listed, want: "cached", wantListd: true, wantLog: "newest Go satisfying >= 1.22.0"},
		{name: "bootstrap is the newest", req: "1.22", kind: matchAtLeast, list: onlyBootstrap, want: "bootstrap", wantListd: true},
		{name: "fresh lookup is not repeated", req: "1.22", kind: matchAtLeast, meta: lookup("1.22", "1.99.1", time.Hour), listErr: offline, want: "cached", wantLog: "looked up 1h0m0s ago"},
		{name: "stale lookup is repeated", req: "1.22", kind: matchAtLeast, meta: lookup("1.22", "1.24.4", 48*time.Hour), list: listed, want: "cached", wantListd: true},
		{name: "offline reuses the stale lookup", req: "1.22", kind: matchAtLeast, meta: lookup("1.22", "1.99.1", 48*time.Hour), listErr: offline, want: "cached", wantListd: true, wantLog: "when last looked up"},
		{name: "offline falls back to the bootstrap", req: "1.22", kind: matchAtLeast, listErr: offline, want: "bootstrap", wantListd: true, wantLog: "could not list Go toolchains"},
		{name: "offline and nothing fits", req: "1.30", kind: matchAtLeast, listErr: offline, wantListd: true, wantErr: "set BP_GO_VERSION"},
		{name: "GOTOOLCHAIN=local", req: "1.22", kind: matchAtLeast, local: true, want: "bootstrap", wantLog: "GOTOOLCHAIN=local"},
		{name: "GOTOOLCHAIN=local too old", req: "1.99.1", kind: matchExact, local: true, wantErr: "unset GOTOOLCHAIN"},
	}
}

// TestResolveGo checks the toolchain choice against a go layer holding Go 1.99.1, without running
// or downloading anything: exact requests are honoured, minimums and lines take the newest listed
// release, and the lookup is cached in the layer (and reused when the proxy cannot be asked).
func TestResolveGo(t *testing.T) {
	now := time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC)
	tests := resolveGoCases(now)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layers := t.TempDir()
			root := filepath.Join(layers, "go", "mod", "golang.org", "toolchain@v0.0.1-go1.99.1.linux-amd64")
			testenv.WriteFile(t, filepath.Join(root, "bin", "go"), "#!/bin/false\n")
			l := libcnb.Layers{Path: layers}
			layer, err := l.Layer(LayerGo)
			if err != nil {
				t.Fatal(err)
			}
			layer.Metadata = map[string]interface{}{"version": "1.99.1", "arch": "amd64", "goroot": "mod/golang.org/toolchain@v0.0.1-go1.99.1.linux-amd64"}
			for k, v := range tt.meta {
				layer.Metadata[k] = v
			}
			var out bytes.Buffer
			asked := false
			b := &Builder{Logger: log.NewPaketoLogger(&out), Now: func() time.Time { return now }, config: buildpack.Config{}}
			b.ListToolchains = func(goTool, string) ([]string, error) { asked = true; return tt.list, tt.listErr }
			if tt.local {
				b.config["GOTOOLCHAIN"] = "local"
			}
			bootstrap := goTool{Bin: "/nonexistent/go", Version: goVersion{Major: 1, Minor: 24, Patch: 4, HasPatch: true}, OS: "linux", Arch: "amd64"}
			v, _ := parseGoVersion(tt.req)
			tool, used, err := b.resolveGo(versionRequest{Version: v, Kind: tt.kind, Source: "test"}, bootstrap, &layer)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if asked != tt.wantListd {
				t.Errorf("proxy asked = %v, want %v", asked, tt.wantListd)
			}
			switch tt.want {
			case "cached":
				if !used || tool.Root != root || tool.Version.String() != "1.99.1" || !layer.Cache || !layer.Build || layer.Launch {
					t.Errorf("tool = %+v used %v, layer types = %+v", tool, used, layer.LayerTypes)
				}
			case "bootstrap":
				if used || tool.Bin != bootstrap.Bin {
					t.Errorf("tool = %+v used %v, want the bootstrap", tool, used)
				}
			}
			if !strings.Contains(out.String(), tt.wantLog) {
				t.Errorf("log %q lacks %q", out.String(), tt.wantLog)
			}
			if tt.list != nil && layer.Metadata[metaLookupResult] == nil && used {
				t.Errorf("lookup not cached in the layer metadata: %v", layer.Metadata)
			}
		})
	}
}
