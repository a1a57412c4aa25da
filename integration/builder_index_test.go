package integration

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/stack"
	"github.com/distill-build/distill/internal/testenv"
)

// TestBuilderIndex: distill builder create --platform linux/amd64,linux/arm64
// publishes one builder index to the local registry: a linux/amd64 and a
// linux/arm64/v8 builder, the arm64 one's lifecycle and buildpacks all
// EM_AARCH64. Its build image (integration/testdata/builder-index: minbase
// with golang-go) builds for arm64 under QEMU emulation (scripts/setup
// registers the binfmt_misc handler), once: the store keeps it. The real
// pack reads the index: pack builder inspect shows it, and pack build
// --platform linux/amd64 builds a Go app with it that serves.
//
// Measured on a loaded 2-core machine: with both build images in the store,
// 2m51s (builder create 17 s, pack build 127 s); from a cold store, builder
// create alone took 16 minutes (the amd64 build image about 5, the arm64 one
// about 10 under emulation), so CI should keep the image store between runs.
func TestBuilderIndex(t *testing.T) {
	testenv.Slow(t, "an integration test: builds an arm64 build image under emulation and runs pack")
	if runtime.GOARCH != "amd64" {
		testenv.Unavailable(t, "the test builds the linux/arm64 builder as the foreign one: run it on amd64")
	}
	if ok, err := stack.Emulates(stack.BinfmtDir, "arm64"); err != nil || !ok {
		testenv.Unavailable(t, "no binfmt_misc handler for arm64 ELF files (%v): scripts/setup registers QEMU's", err)
	}
	start := time.Now()
	set := harness.ToolSets(t)[0]
	reg := harness.Registry(t)
	dir := t.TempDir()
	armBin := filepath.Join(dir, "distill-arm64")
	gobuild := exec.Command("go", "build", "-trimpath", "-o", armBin, "./cmd/distill")
	gobuild.Dir = repoRoot
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := gobuild.CombinedOutput(); err != nil {
		t.Fatalf("building distill for linux/arm64: %v\n%s", err, out)
	}
	cfg := writeIndexBuilder(t, dir)
	prefix := reg + "/distill-it-index"
	ref := prefix + "/builder:index"
	cmd := exec.Command(distillBin, "builder", "create", "--config", cfg, "--platform", "linux/amd64,linux/arm64",
		"--lifecycle", set.LifecycleTarballFor(t, "amd64"), "--lifecycle", "linux/arm64="+set.LifecycleTarballFor(t, "arm64"),
		"--binary", "linux/arm64="+armBin, "--publish", ref, "--stack-registry", prefix)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("distill builder create --platform: %v\n%s", err, out)
	}
	t.Logf("distill builder create --platform linux/amd64,linux/arm64: %s", time.Since(start).Round(time.Second))

	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatalf("the builder %s is not an image index: %v", ref, err)
	}
	images := checkIndex(t, idx)
	for arch, img := range images {
		t.Logf("%s builder: %s", arch, imageBytes(t, img))
	}
	checkBuilderELFs(t, images["arm64"], elf.EM_AARCH64)
	checkBuilderELFs(t, images["amd64"], elf.EM_X86_64)
	checkSingleBuilder(t, cfg, set.LifecycleTarballFor(t, "amd64"), prefix, images["amd64"])

	e := &packEnv{set: set, registry: reg, prefix: prefix}
	if e.packHome, e.bindings, err = packHomeAndBindings(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if out, err := e.run("builder", "inspect", ref); err != nil || !strings.Contains(out, "distill/go") || !strings.Contains(out, prefix+"/distill/run:static") {
		t.Fatalf("pack builder inspect %s: %v\n%s", ref, err, out)
	}
	app := t.TempDir()
	testenv.WriteFiles(t, app, map[string]string{
		"go.mod":  "module example.com/index\n\ngo 1.24\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, \"hello, index\") })\n\thttp.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil)\n}\n",
	})
	appRef := prefix + "/app:index"
	_, took, local := e.build(t, app, ref, appRef, "distill-it-index-go", packFlow{name: "trusted-publish", trusted: true, publish: true}, "--platform", "linux/amd64")
	c := harness.Run(t, local)
	if status, body := c.WaitHTTP(t, "/"); status != 200 || body != "hello, index" {
		t.Fatalf("GET / = %d %q", status, body)
	}
	t.Logf("pack build --platform linux/amd64: %.1f s; the test: %s", took.Seconds(), time.Since(start).Round(time.Second))
}

// writeIndexBuilder writes, under dir, the builder.toml of the test builder
// (the Go buildpack, testdata/builder-index's build image and the real
// run:static) with both platforms as [[targets]], and its stacks/.
func writeIndexBuilder(t *testing.T, dir string) string {
	t.Helper()
	build, err := os.ReadFile(filepath.Join(repoRoot, "integration", "testdata", "builder-index", "stacks", "build.toml"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := os.ReadFile(filepath.Join(repoRoot, "stacks", "run-static.toml"))
	if err != nil {
		t.Fatal(err)
	}
	testenv.WriteFiles(t, dir, map[string]string{
		"stacks/build.toml":      string(build),
		"stacks/run-static.toml": string(run),
		"builder.toml": `description = "distill test builder index"
[[buildpacks]]
  uri = "` + filepath.Join(repoRoot, "buildpacks", "go") + `"
[[order]]
  [[order.group]]
    id = "distill/go"
[build]
  image = "distill-it/build:index"
[[run.images]]
  image = "distill/run:static"
[stack]
  id = "io.distill.stacks.trixie"
  build-image = "distill-it/build:index"
  run-image = "distill/run:static"
[[targets]]
  os = "linux"
  arch = "amd64"
[[targets]]
  os = "linux"
  arch = "arm64"
  variant = "v8"
`,
	})
	return filepath.Join(dir, "builder.toml")
}

// checkSingleBuilder: without --platform, builder create makes one image,
// and from the same inputs it is the index's amd64 builder, digest for digest.
func checkSingleBuilder(t *testing.T, cfg, lifecycle, prefix string, amd64 v1.Image) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "single")
	out, err := exec.Command(distillBin, "builder", "create", "--config", cfg, "--lifecycle", lifecycle,
		"-o", "oci:"+dir, "--stack-registry", prefix).CombinedOutput()
	if err != nil {
		t.Fatalf("distill builder create without --platform: %v\n%s", err, out)
	}
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want, err := amd64.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].MediaType != types.OCIManifestSchema1 || m.Manifests[0].Digest != want {
		t.Errorf("builder create without --platform wrote %+v, want one image %s (the index's linux/amd64 builder)", m.Manifests, want)
	}
}

// checkBuilderELFs checks every ELF file in img's lifecycle and buildpack
// layers (the layers it adds to the build image) is for machine.
func checkBuilderELFs(t *testing.T, img v1.Image, machine elf.Machine) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	// The build image is one layer (stack.Build); the builder adds the
	// directories, the lifecycle, one per module and the config files.
	added, err := mutate.AppendLayers(empty.Image, layers[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	saved := checkELFs(t, added, machine, t.TempDir())
	for _, want := range []string{"/cnb/lifecycle/lifecycle", "/cnb/lifecycle/launcher", "/cnb/buildpacks/distill_go/"} {
		found := false
		for p := range saved {
			found = found || strings.HasPrefix(p, want)
		}
		if !found {
			t.Errorf("the %s builder has no ELF file %s*", machine, want)
		}
	}
}

// imageBytes is img's size: its compressed layers, and uncompressed.
func imageBytes(t *testing.T, img v1.Image) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var compressed, uncompressed int64
	for _, l := range layers {
		c, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		compressed, uncompressed = compressed+c, uncompressed+n
	}
	return fmt.Sprintf("%d layers, %.1f MB compressed, %.1f MB uncompressed", len(layers), float64(compressed)/1e6, float64(uncompressed)/1e6)
}
