package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/inspect"
	"github.com/distill-build/distill/internal/testenv"
)

// goImage is the Go sample built once per test binary by distill into an
// OCI layout, for the inspect and rebase tests (which copy it before
// changing it). Its app and cache stay for a rebuild.
type goImage struct {
	app, cache, layout string
	build              build
	cold               time.Duration
	err                error
}

var (
	goImageOnce sync.Once
	sharedGo    goImage
)

func sharedGoImage(t *testing.T) goImage {
	t.Helper()
	harness.RequireTools(t)
	goImageOnce.Do(func() {
		dir, err := os.MkdirTemp(filepath.Dir(distillBin), "go-image-") // removed with the binary
		if err != nil {
			sharedGo.err = err
			return
		}
		g := goImage{app: filepath.Join(dir, "go-mux"), cache: filepath.Join(dir, "cache"), layout: filepath.Join(dir, "image")}
		if out, err := exec.Command("cp", "-r", filepath.Join(repoRoot, "samples", "go-mux"), g.app).CombinedOutput(); err != nil {
			sharedGo.err = fmt.Errorf("copying the Go sample: %v: %s", err, out)
			return
		}
		start := time.Now()
		g.build = distill(t, g.app, "-o", "oci:"+g.layout, "--cache-dir", g.cache)
		g.cold = time.Since(start)
		if g.build.err != nil {
			g.err = fmt.Errorf("distill build: %v\n%s", g.build.err, g.build.stderr)
		}
		sharedGo = g
	})
	if sharedGo.err != nil {
		t.Fatal(sharedGo.err)
	}
	return sharedGo
}

// copyLayout copies an OCI layout into a fresh directory.
func copyLayout(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "image")
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v: %s", src, err, out)
	}
	return dst
}

// distillCmd runs the distill binary with args and returns stdout, stderr and the error.
func distillCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(distillBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// inspectJSON runs distill inspect --json on ref.
func inspectJSON(t *testing.T, ref string) inspect.Image {
	t.Helper()
	stdout, stderr, err := distillCmd(t, "inspect", "--json", ref)
	if err != nil {
		t.Fatalf("distill inspect --json %s: %v\n%s", ref, err, stderr)
	}
	var img inspect.Image
	if err := json.Unmarshal([]byte(stdout), &img); err != nil {
		t.Fatalf("decoding distill inspect --json: %v\n%s", err, stdout)
	}
	return img
}

// layerBy returns the first layer of img from source src ("distill/go:app").
func layerBy(img inspect.Image, src string) (inspect.Layer, bool) {
	for _, l := range img.Layers {
		if l.Source() == src {
			return l, true
		}
	}
	return inspect.Layer{}, false
}

func hasPackage(pkgs []inspect.Package, name string) bool {
	for _, p := range pkgs {
		if p.Name == name && p.Version != "" {
			return true
		}
	}
	return false
}

// TestInspect: distill inspect reads the Go sample built by distill from an
// OCI layout, from podman and from a registry: run image, buildpacks,
// default process, each layer's owner and sizes (equal to the build's
// report), the packages of the Go layer and of the run image.
func TestInspect(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	g := sharedGoImage(t)
	reg := harness.Registry(t)
	published := reg + "/distill-it/inspect:go"
	if _, stderr, err := distillCmd(t, "build", g.app, "--cache-dir", g.cache, "--publish", published); err != nil {
		t.Fatalf("distill build --publish: %v\n%s", err, stderr)
	}
	// A daemon cannot hand out zstd layers again: its image is gzip, as
	// distill build --daemon writes it.
	daemonTag := "localhost/distill-it/inspect:go"
	if _, stderr, err := distillCmd(t, "build", g.app, "--cache-dir", g.cache, "--daemon", daemonTag); err != nil {
		t.Fatalf("distill build --daemon: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", daemonTag).Run() })
	text, stderr, err := distillCmd(t, "inspect", "oci:"+g.layout)
	if err != nil {
		t.Fatalf("distill inspect: %v\n%s", err, stderr)
	}
	t.Logf("distill inspect oci:%s\n%s", g.layout, text)
	for _, want := range []string{"Run image   distill/run:static", "distill/go 1.0.0", "* web", "distill/go:app", "github.com/gorilla/mux", "TOTAL"} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
	for _, src := range []struct{ name, ref string }{
		{"oci layout", "oci:" + g.layout},
		{"registry", published},
		{"podman", daemonTag},
	} {
		t.Run(src.name, func(t *testing.T) {
			img := inspectJSON(t, src.ref)
			checkGoInspect(t, img)
			if src.name == "podman" {
				return // gzip layers: other digests and sizes
			}
			if img.Digest != g.build.report.Digest || img.Compressed != g.build.report.Total.Compressed || img.Uncompressed != g.build.report.Total.Uncompressed {
				t.Errorf("inspect says %s, %d/%d bytes; the build reported %s, %d/%d", img.Digest, img.Compressed, img.Uncompressed,
					g.build.report.Digest, g.build.report.Total.Compressed, g.build.report.Total.Uncompressed)
			}
		})
	}
}

func checkGoInspect(t *testing.T, img inspect.Image) {
	t.Helper()
	if img.RunImage.Image != "distill/run:static" || !strings.HasPrefix(img.RunImage.Reference, "sha256:") {
		t.Errorf("run image %q @ %q", img.RunImage.Image, img.RunImage.Reference)
	}
	if img.DefaultProcess != "web" || len(img.Processes) == 0 {
		t.Errorf("default process %q of %+v", img.DefaultProcess, img.Processes)
	}
	found := false
	for _, bp := range img.Buildpacks {
		found = found || (bp.ID == "distill/go" && bp.Version != "")
	}
	if !found {
		t.Errorf("buildpacks %+v lack distill/go", img.Buildpacks)
	}
	app, ok := layerBy(img, "distill/go:app")
	if !ok || !hasPackage(app.Packages, "github.com/gorilla/mux") || !hasPackage(app.Packages, "stdlib") {
		t.Errorf("layer distill/go:app: %+v", app)
	}
	if !hasPackage(img.RunImage.Packages, "ca-certificates") {
		t.Errorf("run image packages %+v lack ca-certificates", img.RunImage.Packages)
	}
	for _, kind := range []string{inspect.KindRunImage, inspect.KindBuildpack, inspect.KindSBOM, inspect.KindApp} {
		if _, ok := layerByKind(img, kind); !ok {
			t.Errorf("no %s layer in %+v", kind, img.Layers)
		}
	}
	for _, l := range img.Layers {
		if l.Kind == inspect.KindUnknown || l.Compressed <= 0 || l.Uncompressed < l.Compressed/2 {
			t.Errorf("layer %+v", l)
		}
	}
}

func layerByKind(img inspect.Image, kind string) (inspect.Layer, bool) {
	for _, l := range img.Layers {
		if l.Kind == kind {
			return l, true
		}
	}
	return inspect.Layer{}, false
}
