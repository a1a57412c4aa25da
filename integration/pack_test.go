package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/testenv"
)

// The pack tests drive the real pack v0.38.2 and lifecycle v0.20.11
// (scripts/tools) against podman and the local registry.
//
// Facts they rest on (checked with these versions):
//   - pack refuses a builder with image extensions unless --pull-policy
//     always, so builders, build and run images come from the registry: the
//     stack images are pushed there by `distill builder create --stack-registry`.
//   - The lifecycle's creator (pack's trusted flow, kpack, Tekton's
//     `buildpacks` task) fails with "detected order contains extensions which
//     is not supported by the creator" whenever an extension detects, at
//     Platform API 0.9 as at 0.13. So distill/run-static detects only with
//     BP_RUN_IMAGE_EXTENSIONS=true: the creator builds with the builder's own
//     order onto run:base, and pack's untrusted flow (five phases, extensions
//     honoured, the builder as its lifecycle image) passes the variable to
//     land Go apps on run:static.
//   - The lifecycle containers reach the registry on 127.0.0.1: --network host.

type packEnv struct {
	pack, packHome, registry, prefix string
	distillBuilder, packBuilder      string
	bindings                         string
	err                              error
}

var (
	packOnce  sync.Once
	packSetup packEnv
)

// packFixture creates, once per test binary, the builder from builder.toml
// with distill (published with the stack images) and with pack.
func packFixture(t *testing.T) *packEnv {
	t.Helper()
	harness.RequireTools(t)
	pack := harness.Pack(t)
	lifecycle := harness.LifecycleTarball(t)
	reg := harness.Registry(t)
	packOnce.Do(func() { packSetup = setupPack(pack, lifecycle, reg) })
	if packSetup.err != nil {
		t.Fatal(packSetup.err)
	}
	return &packSetup
}

func setupPack(pack, lifecycle, reg string) packEnv {
	e := packEnv{pack: pack, registry: reg, prefix: reg + "/distill-it"}
	dir, err := os.MkdirTemp("", "distill-pack-")
	if err != nil {
		return packEnv{err: err}
	}
	e.packHome = filepath.Join(dir, "pack-home")
	os.MkdirAll(e.packHome, 0o755)
	// Extensions need no experimental mode in pack 0.38, but older packs want it.
	if err := os.WriteFile(filepath.Join(e.packHome, "config.toml"), []byte("experimental = true\n"), 0o644); err != nil {
		return packEnv{err: err}
	}
	// A ca-certificates binding with the host's bundle: the build trusts the
	// TLS-intercepting proxy.
	e.bindings = filepath.Join(dir, "ca-binding")
	os.MkdirAll(e.bindings, 0o755)
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return packEnv{err: err}
	}
	os.WriteFile(filepath.Join(e.bindings, "type"), []byte("ca-certificates"), 0o644)
	os.WriteFile(filepath.Join(e.bindings, "ca-certificates.crt"), ca, 0o644)

	e.distillBuilder = e.prefix + "/builder:distill"
	cmd := exec.Command(distillBin, "builder", "create", "--config", filepath.Join(repoRoot, "builder.toml"),
		"--lifecycle", lifecycle, "--publish", e.distillBuilder, "--stack-registry", e.prefix)
	if out, err := cmd.CombinedOutput(); err != nil {
		return packEnv{err: fmt.Errorf("distill builder create: %v\n%s", err, out)}
	}

	// builder.toml as pack takes it, with the images distill just pushed.
	cfg, err := os.ReadFile(filepath.Join(repoRoot, "builder.toml"))
	if err != nil {
		return packEnv{err: err}
	}
	s := regexp.MustCompile(`uri = "([^"/][^"]*)"`).ReplaceAllStringFunc(string(cfg), func(m string) string {
		rel := regexp.MustCompile(`"(.*)"`).FindStringSubmatch(m)[1]
		if strings.HasSuffix(rel, "lifecycle.tgz") {
			return fmt.Sprintf("uri = %q", lifecycle)
		}
		return fmt.Sprintf("uri = %q", filepath.Join(repoRoot, rel))
	})
	s = regexp.MustCompile(`"(distill/(build|run):[a-z0-9.-]+)"`).ReplaceAllString(s, `"`+e.prefix+`/$1"`)
	cfgPath := filepath.Join(dir, "builder.toml")
	if err := os.WriteFile(cfgPath, []byte(s), 0o644); err != nil {
		return packEnv{err: err}
	}
	e.packBuilder = e.prefix + "/builder:pack"
	if out, err := e.run("builder", "create", e.packBuilder, "--config", cfgPath, "--publish"); err != nil {
		return packEnv{err: fmt.Errorf("pack builder create: %v\n%s", err, out)}
	}
	return e
}

func (e *packEnv) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.pack, args...)
	cmd.Env = append(os.Environ(), "PACK_HOME="+e.packHome, "DOCKER_HOST="+harness.DockerHost())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// build runs pack build of app with builder into the daemon as localhost/<tag>.
func (e *packEnv) build(t *testing.T, app, builder, tag string, extra ...string) (string, time.Duration) {
	t.Helper()
	args := append([]string{"build", tag, "--builder", builder, "--lifecycle-image", builder, "--path", app,
		"--docker-host", "inherit", "--pull-policy", "always", "--network", "host",
		"--insecure-registry", e.registry, "--volume", e.bindings + ":/platform/bindings/ca-certificates",
		"--env", "BP_RUN_IMAGE_EXTENSIONS=true"}, extra...)
	start := time.Now()
	out, err := e.run(args...)
	d := time.Since(start)
	if err != nil {
		t.Fatalf("pack %s: %v\n%s", strings.Join(args, " "), err, tail(out, 60))
	}
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", podmanName(tag)).Run() })
	return out, d
}

// podmanName is how podman names an image pack saved as ref through the
// Docker API: "localhost/x" becomes "docker.io/localhost/x".
func podmanName(ref string) string {
	if strings.HasPrefix(ref, "localhost/") {
		return "docker.io/" + ref
	}
	return ref
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type lifecycleLabel struct {
	RunImage struct {
		TopLayer string `json:"topLayer"`
		Image    string `json:"image"`
	} `json:"runImage"`
}

func runImageOf(t *testing.T, ref string) lifecycleLabel {
	t.Helper()
	var md lifecycleLabel
	if err := json.Unmarshal([]byte(harness.ImageConfig(t, ref).Labels["io.buildpacks.lifecycle.metadata"]), &md); err != nil {
		t.Fatalf("%s: io.buildpacks.lifecycle.metadata: %v", ref, err)
	}
	return md
}

func imageSize(t *testing.T, ref string) string {
	return harness.Podman(t, "image", "inspect", "--format", "{{.Size}}", ref)
}

// TestPackBuilderCreate: pack builder create takes builder.toml unchanged
// (its images in podman, the lifecycle from scripts/tools).
func TestPackBuilderCreate(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	e := packFixture(t)
	if _, err := os.Stat(filepath.Join(repoRoot, ".cache", "tools", "lifecycle.tgz")); err != nil {
		testenv.Unavailable(t, "builder.toml's [lifecycle] uri (.cache/tools/lifecycle.tgz) is not there; DISTILL_TOOLS points elsewhere")
	}
	// pack --pull-policy never looks the build and run images up in podman,
	// where they are loaded from distill's image store under their names.
	store, err := image.OpenStore(mustStoreDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"distill/build:latest", "distill/run:base"} {
		img, err := store.Get(ref)
		if err != nil {
			t.Fatal(err)
		}
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := image.Daemon(tag).Write(t.Context(), img); err != nil {
			t.Fatal(err)
		}
	}
	tag := "localhost/distill-it/pack-builder:unchanged"
	out, err := e.run("builder", "create", tag, "--config", filepath.Join(repoRoot, "builder.toml"), "--pull-policy", "never")
	if err != nil {
		t.Fatalf("pack builder create --config builder.toml: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", podmanName(tag)).Run() })
	out, err = e.run("builder", "inspect", podmanName(tag))
	if err != nil || !strings.Contains(out, "distill/go") || !strings.Contains(out, "distill/run-static") {
		t.Fatalf("pack builder inspect: %v\n%s", err, out)
	}
}

// TestPackBuildGo: pack build of the Go sample, with the builder pack made
// and with the one distill made; the app serves from run:static.
func TestPackBuildGo(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	e := packFixture(t)
	for _, b := range []struct{ name, ref string }{{"pack builder", e.packBuilder}, {"distill builder", e.distillBuilder}} {
		t.Run(b.name, func(t *testing.T) {
			tag := "localhost/distill-it/pack-go:" + strings.ReplaceAll(strings.Split(b.ref, ":")[2], ".", "-")
			app := copyApp(t, "samples/go-mux")
			out, cold := e.build(t, app, b.ref, tag)
			if !strings.Contains(out, "run image "+e.prefix+"/distill/run:static") && !strings.Contains(out, "distill/run:static") {
				t.Errorf("no switch to run:static in the output:\n%s", tail(out, 40))
			}
			md := runImageOf(t, podmanName(tag))
			if !strings.HasSuffix(md.RunImage.Image, "distill/run:static") {
				t.Errorf("run image %q, want .../distill/run:static", md.RunImage.Image)
			}
			c := harness.Run(t, podmanName(tag))
			if status, body := c.WaitHTTP(t, "/hello/pack"); status != 200 || !strings.Contains(body, "hello, pack") {
				t.Fatalf("GET /hello/pack = %d %q", status, body)
			}
			if b.name == "pack builder" {
				sameLaunchLayers(t, podmanName(tag))
			}
			_, warm := e.build(t, app, b.ref, tag)
			t.Logf("pack build with the %s: cold %.1f s, warm %.1f s, image %s bytes", b.name, cold.Seconds(), warm.Seconds(), imageSize(t, podmanName(tag)))
		})
	}
}

// TestDistillBuildFromBuilderImage: distill build --builder <image> reads
// the builder distill created (buildpacks from its layers, order and run
// images from its labels).
func TestDistillBuildFromBuilderImage(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	e := packFixture(t)
	out := filepath.Join(t.TempDir(), "img")
	cmd := exec.Command(distillBin, "build", copyApp(t, "samples/go-mux"), "--builder", e.distillBuilder, "-o", "oci:"+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("distill build --builder %s: %v\n%s", e.distillBuilder, err, tail(string(b), 40))
	} else if !strings.Contains(string(b), "distill/run:static") {
		t.Errorf("the Go app is not on run:static:\n%s", tail(string(b), 20))
	}
	ref := harness.LoadOCI(t, out)
	if status, _ := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d", status)
	}
}

// TestPackRebase: pack rebase swaps the run image of a distill-built image
// in podman for a rebuilt one, and the app still serves. The app is built
// with --compression gzip, as the README says: pack hands images through the
// Docker API, whose manifests cannot carry zstd layers. (Rebasing in a
// registry, pack v0.38.2 writes a Docker v2s2 manifest that keeps the OCI
// layer media types, which podman then refuses to pull, whoever built the
// image on an OCI run image.)
func TestPackRebase(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	e := packFixture(t)
	ref := "localhost/distill-it/rebase:go"
	layout := filepath.Join(t.TempDir(), "app")
	distill(t, copyApp(t, "samples/go-mux"), "-o", "oci:"+layout, "--compression", "gzip").must(t)
	appTag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	loadFresh(t, appTag, harness.Image(t, layout))
	// The "rebuilt" run image: run:static plus one file.
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
	newRun, err := mutate.AppendLayers(run, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := newRun.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	newTop := cf.RootFS.DiffIDs[len(cf.RootFS.DiffIDs)-1].String()
	newRef := "localhost/distill-it/run:static-rebuilt"
	newTag, err := name.NewTag(newRef)
	if err != nil {
		t.Fatal(err)
	}
	loadFresh(t, newTag, newRun)
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", ref, podmanName(ref), newRef).Run() })
	// --force: the app names its run image distill/run:static, not the new one.
	if out, err := e.run("rebase", ref, "--run-image", newRef, "--pull-policy", "never", "--force"); err != nil {
		t.Fatalf("pack rebase: %v\n%s", err, out)
	}
	ref = podmanName(ref)
	after := runImageOf(t, ref)
	if after.RunImage.TopLayer != newTop {
		t.Errorf("top layer after rebase %s, want the rebuilt run image's %s", after.RunImage.TopLayer, newTop)
	}
	if status, _ := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d after the rebase", status)
	}
	if out, err := e.run("inspect", ref); err != nil || !strings.Contains(out, "distill/go") || !strings.Contains(out, "web") {
		t.Errorf("pack inspect: %v\n%s", err, out)
	}
}

// TestLifecycleCreator: the lifecycle's creator, run in the builder image
// against the registry at Platform API 0.9 (kpack, Tekton `buildpacks`) and
// 0.13, builds the Go sample; the image serves.
func TestLifecycleCreator(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	e := packFixture(t)
	harness.Podman(t, "pull", "--quiet", e.distillBuilder)
	for _, api := range []string{"0.9", "0.13"} {
		t.Run(api, func(t *testing.T) {
			ws := copyApp(t, "samples/go-mux")
			if out, err := exec.Command("chown", "-R", "1000:1000", ws).CombinedOutput(); err != nil {
				t.Fatalf("chown: %v %s", err, out)
			}
			ref := e.prefix + "/creator:" + strings.ReplaceAll(api, ".", "-")
			start := time.Now()
			harness.Podman(t, "run", "--rm", "--network", "host", "--env", "CNB_PLATFORM_API="+api,
				"--volume", ws+":/workspace", "--volume", e.bindings+":/platform/bindings/ca-certificates:ro",
				e.distillBuilder,
				"/cnb/lifecycle/creator", "-run-image", e.prefix+"/distill/run:base", ref)
			t.Logf("creator at Platform API %s: %.1f s", api, time.Since(start).Seconds())
			harness.Podman(t, "pull", "--quiet", ref)
			t.Cleanup(func() { exec.Command("podman", "rmi", "--force", ref).Run() })
			if status, _ := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 {
				t.Fatalf("GET / = %d", status)
			}
		})
	}
}

func mustStoreDir(t *testing.T) string {
	t.Helper()
	d, err := image.DefaultStoreDir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// loadFresh loads img into podman as tag. An image with the same ID (the
// same config, maybe stored with other layer compression by an earlier run)
// is removed first: the Docker API load would only re-tag it.
func loadFresh(t *testing.T, tag name.Tag, img v1.Image) {
	t.Helper()
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	exec.Command("podman", "rmi", "--force", id.Hex).Run()
	if err := image.Daemon(tag).Write(t.Context(), img); err != nil {
		t.Fatal(err)
	}
}

// tarLayer is a layer of the given files.
func tarLayer(files map[string]string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: image.Epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// sameLaunchLayers checks that the Go buildpack contributed the same launch
// files to the image pack built (ref, in podman) as to the one distill builds
// from the same source.
func sameLaunchLayers(t *testing.T, ref string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "img")
	distill(t, copyApp(t, "samples/go-mux"), "-o", "oci:"+out).must(t)
	launch := func(entries map[string]harness.Entry) []string {
		var files []string
		for p, e := range entries {
			if strings.HasPrefix(p, "/layers/distill_go/") && !e.IsDir() {
				files = append(files, p)
			}
		}
		sort.Strings(files)
		return files
	}
	fromPack, fromDistill := launch(harness.Entries(t, ref)), launch(harness.Entries(t, out))
	if len(fromDistill) == 0 || strings.Join(fromPack, "\n") != strings.Join(fromDistill, "\n") {
		t.Errorf("distill/go launch files differ:\npack:    %v\ndistill: %v", fromPack, fromDistill)
	}
}

// TestPackBuildNodePython: pack build with the distill builder builds the
// Node and Python fixtures too (on run:base), and they answer on $PORT.
func TestPackBuildNodePython(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	e := packFixture(t)
	idx := pythonIndex(t)
	for _, app := range []struct {
		name, dir string
		extra     []string
	}{
		{"node-express", "samples/node-express", nil},
		{"python-flask", "integration/testdata/python/flask-procfile", []string{"--env", "PIP_INDEX_URL=" + idx.URL}},
	} {
		t.Run(app.name, func(t *testing.T) {
			tag := "localhost/distill-it/pack-" + app.name + ":latest"
			_, took := e.build(t, copyApp(t, app.dir), e.distillBuilder, tag, app.extra...)
			t.Logf("pack build of %s: %.1f s, image %s bytes", app.name, took.Seconds(), imageSize(t, podmanName(tag)))
			if md := runImageOf(t, podmanName(tag)); !strings.HasSuffix(md.RunImage.Image, "distill/run:base") {
				t.Errorf("run image %q, want .../distill/run:base", md.RunImage.Image)
			}
			if status, _ := harness.Run(t, podmanName(tag)).WaitHTTP(t, "/"); status != 200 {
				t.Fatalf("GET / = %d", status)
			}
		})
	}
}
