package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/inspect"
	"github.com/distill-build/distill/internal/testenv"
)

// rebuiltRunImage is distill/run:static as a platform team's rebuild would
// give it: one more layer (etc/distill-rebased), and labels changed by
// relabel.
func rebuiltRunImage(t *testing.T, relabel func(map[string]string)) v1.Image {
	t.Helper()
	store, err := image.OpenStore(mustStoreDir(t))
	if err != nil {
		t.Fatal(err)
	}
	run, err := store.Get("distill/run:static")
	if err != nil {
		t.Fatal(err)
	}
	layer, err := tarLayer(map[string]string{"etc/distill-rebased": "yes\n"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(run, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	relabel(cf.Config.Labels)
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

func writeLayout(t *testing.T, img v1.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := image.OCILayout(dir).Write(context.Background(), img); err != nil {
		t.Fatal(err)
	}
	return dir
}

// appLayers are the digests of img's layers above its run image.
func appLayers(img inspect.Image) []string {
	var out []string
	for _, l := range img.Layers {
		if l.Kind != inspect.KindRunImage {
			out = append(out, l.Digest)
		}
	}
	return out
}

// checkRebasedGo checks the rebase of before gave after: the new run image's
// top layer, the app's layers byte for byte.
func checkRebasedGo(t *testing.T, before, after inspect.Image, run v1.Image) {
	t.Helper()
	cf, err := run.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if want := cf.RootFS.DiffIDs[len(cf.RootFS.DiffIDs)-1].String(); after.RunImage.TopLayer != want {
		t.Errorf("run image top layer %s after the rebase, want %s", after.RunImage.TopLayer, want)
	}
	if a, b := strings.Join(appLayers(before), " "), strings.Join(appLayers(after), " "); a != b || a == "" {
		t.Errorf("app layers changed:\nbefore %s\nafter  %s", a, b)
	}
	if before.Digest == after.Digest {
		t.Errorf("the rebased image has the old digest %s", after.Digest)
	}
}

// TestRebase: distill rebase puts the Go sample (an OCI layout) on a rebuilt
// run:static without rebuilding it; the app layers stay byte for byte, the
// image serves; an incompatible run image is refused and nothing written;
// one rebase is timed next to a rebuild.
func TestRebase(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	g := sharedGoImage(t)
	newRun := rebuiltRunImage(t, func(l map[string]string) { l["org.opencontainers.image.revision"] = "rebuilt" })
	newRunDir := writeLayout(t, newRun)
	before := inspectJSON(t, "oci:"+g.layout)

	t.Run("refuses another run image without --force", func(t *testing.T) {
		layout := copyLayout(t, g.layout)
		_, stderr, err := distillCmd(t, "rebase", "oci:"+layout, "--run-image", "oci:"+newRunDir)
		if err == nil || !strings.Contains(stderr, "pass --force") {
			t.Fatalf("rebase onto another run image without --force: %v\n%s", err, stderr)
		}
	})
	t.Run("refuses another stack and leaves the image", func(t *testing.T) {
		layout := copyLayout(t, g.layout)
		other := writeLayout(t, rebuiltRunImage(t, func(l map[string]string) { l["io.buildpacks.stack.id"] = "io.example.other" }))
		index := readFile(t, filepath.Join(layout, "index.json"))
		_, stderr, err := distillCmd(t, "rebase", "oci:"+layout, "--run-image", "oci:"+other, "--force")
		if err == nil || !strings.Contains(stderr, `of stack "io.example.other"`) {
			t.Fatalf("rebase onto another stack: %v\n%s", err, stderr)
		}
		if readFile(t, filepath.Join(layout, "index.json")) != index {
			t.Errorf("a refused rebase changed %s", layout)
		}
	})
	t.Run("unchanged run image", func(t *testing.T) {
		layout := copyLayout(t, g.layout)
		stdout, stderr, err := distillCmd(t, "rebase", "oci:"+layout)
		if err != nil || !strings.Contains(stdout, "already on the newest distill/run:static") {
			t.Fatalf("rebase onto the same run:static: %v\n%s%s", err, stdout, stderr)
		}
	})
	t.Run("onto a rebuilt run image", func(t *testing.T) {
		layout := copyLayout(t, g.layout)
		start := time.Now()
		stdout, stderr, err := distillCmd(t, "rebase", "oci:"+layout, "--run-image", "oci:"+newRunDir, "--force")
		took := time.Since(start)
		if err != nil {
			t.Fatalf("distill rebase: %v\n%s", err, stderr)
		}
		t.Logf("distill rebase:\n%s", stdout)
		after := inspectJSON(t, "oci:"+layout)
		checkRebasedGo(t, before, after, newRun)
		if _, ok := harness.Entries(t, layout)["/etc/distill-rebased"]; !ok {
			t.Errorf("the rebased image lacks the new run image's /etc/distill-rebased")
		}
		ref := harness.LoadOCI(t, layout)
		if status, body := harness.Run(t, ref).WaitHTTP(t, "/hello/rebase"); status != 200 || !strings.Contains(body, "hello, rebase") {
			t.Fatalf("GET /hello/rebase = %d %q after the rebase", status, body)
		}
		start = time.Now()
		distill(t, g.app, "-o", "oci:"+filepath.Join(t.TempDir(), "rebuilt"), "--cache-dir", g.cache).must(t)
		rebuild := time.Since(start)
		t.Logf("TIMING rebase %.2f s; rebuild with a warm cache %.2f s; first (cold) build %.2f s", took.Seconds(), rebuild.Seconds(), g.cold.Seconds())
	})
}

// TestRebaseRegistry: distill rebase of an image in a registry onto a
// rebuilt run image pushed there; the result is pushed back under the same
// tag, pulled by podman, and serves.
func TestRebaseRegistry(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	g := sharedGoImage(t)
	reg := harness.Registry(t)
	appRef := reg + "/distill-it/rebase:go"
	if _, stderr, err := distillCmd(t, "build", g.app, "--cache-dir", g.cache, "--publish", appRef); err != nil {
		t.Fatalf("distill build --publish: %v\n%s", err, stderr)
	}
	newRun := rebuiltRunImage(t, func(l map[string]string) { l["org.opencontainers.image.revision"] = "rebuilt" })
	runRef := reg + "/distill-it/run:static-rebuilt"
	r, err := name.ParseReference(runRef)
	if err != nil {
		t.Fatal(err)
	}
	if err := image.Registry(r).Write(context.Background(), newRun); err != nil {
		t.Fatal(err)
	}
	before := inspectJSON(t, appRef)
	start := time.Now()
	stdout, stderr, err := distillCmd(t, "rebase", appRef, "--run-image", runRef, "--force")
	if err != nil {
		t.Fatalf("distill rebase: %v\n%s", err, stderr)
	}
	t.Logf("TIMING registry rebase %.2f s\n%s", time.Since(start).Seconds(), stdout)
	after := inspectJSON(t, appRef)
	checkRebasedGo(t, before, after, newRun)
	if after.RunImage.Image != runRef {
		t.Errorf("metadata names run image %q after a forced rebase, want %s", after.RunImage.Image, runRef)
	}
	harness.Podman(t, "pull", "--quiet", "--tls-verify=false", appRef)
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", appRef).Run() })
	if status, _ := harness.Run(t, appRef).WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d after the rebase", status)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRebasePackBuild: an image pack builds with distill's builder and
// publishes: distill inspect reads it (launcher, config layers and all),
// distill rebase finds it current on its run image, then puts it on a
// rebuilt one in the registry; podman pulls it and it serves.
func TestRebasePackBuild(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	e := packFixtures(t)[0]
	appRef := e.prefix + "/pack-rebase:go"
	_, _, local := e.build(t, copyApp(t, "samples/go-mux"), e.distillBuilder, appRef, "distill-it-rebase-cache", packFlows[2])
	// The published flow pulls the image back into podman; inspect looks in the daemon first, so
	// the local copy goes and every inspect below reads the registry, where rebase writes.
	exec.Command("podman", "rmi", "--force", local).Run()
	before := inspectJSON(t, appRef)
	t.Run("inspect", func(t *testing.T) {
		if !strings.HasSuffix(before.RunImage.Image, "distill/run:static") || before.DefaultProcess != "web" {
			t.Errorf("run image %q, default process %q", before.RunImage.Image, before.DefaultProcess)
		}
		app, ok := layerBy(before, "distill/go:app")
		if !ok || !hasPackage(app.Packages, "github.com/gorilla/mux") {
			t.Errorf("layer distill/go:app: %+v", app)
		}
		for _, l := range before.Layers {
			if l.Kind == inspect.KindUnknown {
				t.Errorf("inspect does not know who put layer %+v", l)
			}
		}
		if _, ok := layerByKind(before, inspect.KindLauncher); !ok {
			t.Errorf("no launcher layer in %+v", before.Layers)
		}
	})
	t.Run("current", func(t *testing.T) {
		stdout, stderr, err := distillCmd(t, "rebase", appRef)
		if err != nil || !strings.Contains(stdout, "already on the newest") {
			t.Fatalf("distill rebase onto its own run image: %v\n%s%s", err, stdout, stderr)
		}
	})
	t.Run("onto a rebuilt run image", func(t *testing.T) {
		runRef := e.prefix + "/distill/run:static-rebuilt"
		old, err := image.Resolve(t.Context(), before.RunImage.Image, image.WithSources(image.FromRegistry))
		if err != nil {
			t.Fatal(err)
		}
		layer, err := tarLayer(map[string]string{"etc/distill-rebased": "yes\n"})
		if err != nil {
			t.Fatal(err)
		}
		newRun, err := mutate.AppendLayers(old, layer)
		if err != nil {
			t.Fatal(err)
		}
		r, err := name.ParseReference(runRef)
		if err != nil {
			t.Fatal(err)
		}
		if err := image.Registry(r).Write(t.Context(), newRun); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stdout, stderr, err := distillCmd(t, "rebase", appRef, "--run-image", runRef, "--force")
		if err != nil {
			t.Fatalf("distill rebase: %v\n%s", err, stderr)
		}
		t.Logf("distill rebase (%.2f s):\n%s", time.Since(start).Seconds(), stdout)
		checkRebasedGo(t, before, inspectJSON(t, appRef), newRun)
		harness.Podman(t, "pull", "--quiet", "--tls-verify=false", appRef)
		t.Cleanup(func() { exec.Command("podman", "rmi", "--force", appRef).Run() })
		if status, _ := harness.Run(t, appRef).WaitHTTP(t, "/"); status != 200 {
			t.Fatalf("GET / = %d after the rebase", status)
		}
	})
}
