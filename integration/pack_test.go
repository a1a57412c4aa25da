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
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/testenv"
)

// The pack tests drive the real pack and lifecycle of every tool set
// scripts/tools builds (pack 0.38.2 + lifecycle 0.20.11, pack 0.40.6 +
// lifecycle 0.21.14) against podman and the local registry.
//
// Facts they rest on (checked with these versions):
//   - pack refuses a builder with image extensions unless --pull-policy
//     always, so builders, build and run images come from the registry: the
//     stack images are pushed there by `distill builder create --stack-registry`.
//   - The lifecycle's creator (pack's trusted flow, kpack, Tekton's
//     `buildpacks` task) fails with "detected order contains extensions which
//     is not supported by the creator" whenever an extension detects, at
//     every Platform API. So distill/run-static detects only with
//     BP_RUN_IMAGE_EXTENSIONS=true: the creator builds with the builder's own
//     order onto run:base, and pack's untrusted flow (five phases, extensions
//     honoured, the builder as its lifecycle image) passes the variable to
//     land Go apps on run:static.
//   - The lifecycle containers reach the registry on 127.0.0.1: --network host.
//   - Lifecycle v0.21.10 and v0.21.11 (go-containerregistry v0.21.6) can
//     write wrong diff IDs into an image's config, v0.21.15 and later
//     duplicated run-image layers into daemon exports; v0.21.12 to v0.21.14
//     do neither, and scripts/tools builds v0.21.14 (docs/PLATFORMS.md).

type packEnv struct {
	set                         harness.ToolSet
	packHome, registry, prefix  string
	distillBuilder, packBuilder string
	bindings                    string
}

var (
	packMu   sync.Mutex
	packEnvs = map[string]func() (*packEnv, error){}
)

// packFixtures are the fixtures of every tool set.
func packFixtures(t *testing.T) []*packEnv {
	t.Helper()
	var envs []*packEnv
	for _, set := range harness.ToolSets(t) {
		envs = append(envs, packFixture(t, set))
	}
	return envs
}

// packFixture creates, once per test binary and tool set, the builder from
// builder.toml with distill (published with the stack images) and with pack,
// each carrying the set's lifecycle.
func packFixture(t *testing.T, set harness.ToolSet) *packEnv {
	t.Helper()
	harness.RequireTools(t)
	reg := harness.Registry(t)
	packMu.Lock()
	setup, ok := packEnvs[set.Name]
	if !ok {
		setup = sync.OnceValues(func() (*packEnv, error) { return setupPack(set, reg) })
		packEnvs[set.Name] = setup
	}
	packMu.Unlock()
	e, err := setup()
	if err != nil {
		t.Fatalf("pack fixture for %s: %v", set.Name, err)
	}
	return e
}

func setupPack(set harness.ToolSet, reg string) (*packEnv, error) {
	e := &packEnv{set: set, registry: reg, prefix: reg + "/distill-it"}
	dir, err := os.MkdirTemp("", "distill-pack-"+set.Name+"-")
	if err != nil {
		return nil, err
	}
	if e.packHome, e.bindings, err = packHomeAndBindings(dir); err != nil {
		return nil, err
	}
	e.distillBuilder = e.prefix + "/builder:" + set.Name + "-distill"
	cmd := exec.Command(distillBin, "builder", "create", "--config", filepath.Join(repoRoot, "builder.toml"),
		"--lifecycle", set.LifecycleTarball(), "--publish", e.distillBuilder, "--stack-registry", e.prefix)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("distill builder create: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(dir, "builder.toml")
	if err := writePackBuilderConfig(cfgPath, set.LifecycleTarball(), e.prefix); err != nil {
		return nil, err
	}
	e.packBuilder = e.prefix + "/builder:" + set.Name + "-pack"
	if out, err := e.run("builder", "create", e.packBuilder, "--config", cfgPath, "--publish"); err != nil {
		return nil, fmt.Errorf("pack builder create: %v\n%s", err, out)
	}
	return e, nil
}

// packHomeAndBindings makes, under dir, a PACK_HOME with experimental mode
// on (extensions need no experimental mode in pack 0.38, but older packs want
// it) and a ca-certificates binding with the host's bundle, so the build
// trusts the TLS-intercepting proxy.
func packHomeAndBindings(dir string) (home, bindings string, err error) {
	home, bindings = filepath.Join(dir, "pack-home"), filepath.Join(dir, "ca-binding")
	ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return "", "", fmt.Errorf("the ca-certificates binding needs the host's bundle: %w", err)
	}
	files := map[string][]byte{
		filepath.Join(home, "config.toml"):             []byte("experimental = true\n"),
		filepath.Join(bindings, "type"):                []byte("ca-certificates"),
		filepath.Join(bindings, "ca-certificates.crt"): ca,
	}
	for path, data := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", "", err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return "", "", err
		}
	}
	return home, bindings, nil
}

// writePackBuilderConfig writes builder.toml as pack takes it: relative uris
// made absolute, the lifecycle tarball of the tool set, and the images distill
// pushed under prefix.
func writePackBuilderConfig(path, lifecycle, prefix string) error {
	cfg, err := os.ReadFile(filepath.Join(repoRoot, "builder.toml"))
	if err != nil {
		return err
	}
	s := regexp.MustCompile(`uri = "([^"/][^"]*)"`).ReplaceAllStringFunc(string(cfg), func(m string) string {
		rel := regexp.MustCompile(`"(.*)"`).FindStringSubmatch(m)[1]
		if strings.HasSuffix(rel, "lifecycle.tgz") {
			return fmt.Sprintf("uri = %q", lifecycle)
		}
		return fmt.Sprintf("uri = %q", filepath.Join(repoRoot, rel))
	})
	s = regexp.MustCompile(`"(distill/(build|run):[a-z0-9.-]+)"`).ReplaceAllString(s, `"`+prefix+`/$1"`)
	return os.WriteFile(path, []byte(s), 0o644)
}

func (e *packEnv) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.set.Pack(), args...)
	cmd.Env = append(os.Environ(), "PACK_HOME="+e.packHome, "DOCKER_HOST="+harness.DockerHost())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// packFlow is how pack runs the lifecycle and where the image goes.
type packFlow struct {
	name string
	// trusted: pack runs the creator in the builder (--trust-builder), which
	// refuses extensions, so apps land on run:base; else the five phases with
	// the builder as lifecycle image and the run image extension on.
	trusted bool
	// publish: the exporter pushes to the registry (--publish), else it
	// loads the image into podman.
	publish bool
}

func (f packFlow) runImage(goApp bool) string {
	if goApp && !f.trusted {
		return "distill/run:static"
	}
	return "distill/run:base"
}

var packFlows = []packFlow{
	{name: "untrusted-daemon"},
	{name: "trusted-daemon", trusted: true},
	{name: "untrusted-publish", publish: true},
	{name: "trusted-publish", trusted: true, publish: true},
}

// build runs pack build of app with builder in flow f as ref (in podman, or
// pushed and pulled back), with cache as the build cache volume, so builds of
// the same app share their layers. It returns pack's output, the time it took
// and the image's name in podman.
func (e *packEnv) build(t *testing.T, app, builder, ref, cache string, f packFlow, extra ...string) (string, time.Duration, string) {
	t.Helper()
	args := []string{"build", ref, "--builder", builder, "--path", app,
		"--docker-host", "inherit", "--pull-policy", "always", "--network", "host",
		"--insecure-registry", e.registry, "--volume", e.bindings + ":/platform/bindings/ca-certificates",
		"--cache", "type=build;format=volume;name=" + cache}
	if f.trusted {
		args = append(args, "--trust-builder")
	} else {
		args = append(args, "--lifecycle-image", builder, "--env", "BP_RUN_IMAGE_EXTENSIONS=true")
	}
	if f.publish {
		args = append(args, "--publish")
	}
	args = append(args, extra...)
	start := time.Now()
	out, err := e.run(args...)
	d := time.Since(start)
	if err != nil {
		t.Fatalf("pack %s: %v\n%s", strings.Join(args, " "), err, tail(out, 60))
	}
	local := podmanName(ref)
	if f.publish {
		harness.Podman(t, "pull", "--quiet", ref)
		local = ref
	}
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", local).Run() })
	return out, d, local
}

// cacheVolume is the name of a pack build cache volume shared by the builds
// of app with one tool set; like pack's own caches it stays for the next run.
func (e *packEnv) cacheVolume(app string) string {
	return "distill-it-" + e.set.Name + "-" + app
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
	// Stack is where Platform APIs before 0.12 record the run image.
	Stack struct {
		RunImage struct {
			Image string `json:"image"`
		} `json:"runImage"`
	} `json:"stack"`
}

// runImage is the run image the label names, at any Platform API.
func (l lifecycleLabel) runImage() string {
	if l.RunImage.Image != "" {
		return l.RunImage.Image
	}
	return l.Stack.RunImage.Image
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
	e := packFixtures(t)[0]
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

// TestPackBuild: pack build of the Go sample with the builder distill made,
// in every flow (trusted creator and untrusted five phases, into podman and
// published) of every tool set, and with the builder pack made from
// builder.toml. The app serves, on run:static where the extension ran, and
// pack inspect and pack sbom download read the image. The builds of one tool
// set share one build cache. The launch layers of the image from pack's
// builder are compared with distill build's once (a distill build costs time).
func TestPackBuild(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	for i, e := range packFixtures(t) {
		t.Run(e.set.Name, func(t *testing.T) {
			for _, f := range packFlows {
				t.Run(f.name, func(t *testing.T) { e.checkGoBuild(t, e.distillBuilder, f) })
			}
			t.Run("pack-builder", func(t *testing.T) {
				local := e.checkGoBuild(t, e.packBuilder, packFlows[0])
				if i == 0 {
					sameLaunchLayers(t, local)
				}
			})
		})
	}
}

// checkGoBuild builds the Go sample with builder in flow f, checks the image
// and returns its name in podman.
func (e *packEnv) checkGoBuild(t *testing.T, builder string, f packFlow) string {
	t.Helper()
	kind := builder[strings.LastIndex(builder, "-")+1:] // distill or pack
	tag := strings.ReplaceAll(e.set.Name, ".", "-") + "-" + f.name + "-" + kind
	ref := "localhost/distill-it/pack-go:" + tag
	if f.publish {
		ref = e.prefix + "/pack-go:" + tag
	}
	out, took, local := e.build(t, copyApp(t, "samples/go-mux"), builder, ref, e.cacheVolume("go"), f)
	want := f.runImage(true)
	if md := runImageOf(t, local); !strings.HasSuffix(md.RunImage.Image, want) {
		t.Errorf("run image %q, want .../%s\n%s", md.RunImage.Image, want, tail(out, 30))
	}
	c := harness.Run(t, local)
	if status, body := c.WaitHTTP(t, "/hello/pack"); status != 200 || !strings.Contains(body, "hello, pack") {
		t.Fatalf("GET /hello/pack = %d %q", status, body)
	}
	e.checkInspect(t, ref, f.publish, want)
	e.checkSBOM(t, ref, f.publish)
	t.Logf("%s %s: pack build %.1f s, image %s bytes", e.set.Name, f.name, took.Seconds(), imageSize(t, local))
	return local
}

// checkInspect: pack inspect shows the image's processes, buildpacks and run
// image.
func (e *packEnv) checkInspect(t *testing.T, ref string, remote bool, runImage string) {
	t.Helper()
	name := ref
	if !remote {
		name = podmanName(ref)
	}
	out, err := e.run("inspect", name)
	if err != nil {
		t.Fatalf("pack inspect %s: %v\n%s", name, err, out)
	}
	for _, want := range []string{"distill/go", "web", runImage} {
		if !strings.Contains(out, want) {
			t.Errorf("pack inspect %s does not show %q:\n%s", name, want, out)
		}
	}
}

// checkSBOM: pack sbom download finds the Go buildpack's CycloneDX SBOM of
// the app layer.
func (e *packEnv) checkSBOM(t *testing.T, ref string, remote bool) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"sbom", "download", podmanName(ref), "--output-dir", dir}
	if remote {
		args = []string{"sbom", "download", ref, "--remote", "--output-dir", dir}
	}
	if out, err := e.run(args...); err != nil {
		t.Fatalf("pack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	sbom := filepath.Join(dir, "layers", "sbom", "launch", "distill_go", "app", "sbom.cdx.json")
	data, err := os.ReadFile(sbom)
	if err != nil {
		t.Fatalf("pack sbom download: %v; got %v", err, harnessFiles(dir))
	}
	if !strings.Contains(string(data), "gorilla/mux") {
		t.Errorf("%s does not list gorilla/mux:\n%s", sbom, tail(string(data), 20))
	}
}

// harnessFiles lists the files under dir, for messages.
func harnessFiles(dir string) []string {
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return files
}

// TestDistillBuildFromBuilderImage: distill build --builder <image> reads
// the builder distill created (buildpacks from its layers, order and run
// images from its labels).
func TestDistillBuildFromBuilderImage(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	e := packFixtures(t)[0]
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

// TestPackRebase: pack rebase of every tool set swaps the run image of a
// distill-built image for a rebuilt one, through podman and in the registry,
// and the app still serves; pack inspect shows the new run image. The app is
// built with --compression gzip, as the README says: pack hands images
// through the Docker API, whose manifests cannot carry zstd layers.
//
// In a registry, pack rebase --publish writes a Docker v2s2 manifest that
// keeps the OCI media types of the layers (go-containerregistry's
// mutate.Rebase starts from its Docker-typed empty image), which podman then
// refuses to pull; "publish" checks that this is pack's doing on images of
// ours that are OCI throughout, and rebases the way docs/PLATFORMS.md gives:
// through podman, then pushed.
func TestPackRebase(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	envs := packFixtures(t)
	layout := filepath.Join(t.TempDir(), "app")
	distill(t, copyApp(t, "samples/go-mux"), "-o", "oci:"+layout, "--compression", "gzip").must(t)
	app := harness.Image(t, layout)
	newRun, newTop := packRebaseRunImage(t)
	for _, e := range envs {
		t.Run(e.set.Name, func(t *testing.T) {
			runRef := e.prefix + "/run:static-rebuilt"
			pushImage(t, runRef, newRun)
			t.Run("daemon", func(t *testing.T) { e.rebaseInDaemon(t, app, runRef, newTop) })
			t.Run("publish", func(t *testing.T) {
				ref := e.prefix + "/rebase:" + e.set.Name
				pushImage(t, ref, app)
				requireOCI(t, app, newRun)
				if out, err := e.run("rebase", ref, "--run-image", runRef, "--publish", "--force",
					"--insecure-registry", e.registry); err != nil {
					t.Fatalf("pack rebase --publish: %v\n%s", err, out)
				}
				checkPackMixesMediaTypes(t, ref)
				// The way around: rebase in podman, push from there.
				pushImage(t, ref, app)
				harness.Podman(t, "pull", "--quiet", ref)
				t.Cleanup(func() { exec.Command("podman", "rmi", "--force", ref).Run() })
				e.rebase(t, ref, runRef, newTop)
				// --format oci: left to choose, podman 4.3 pushes the rebased image as a Docker schema 1 manifest, which pack cannot read.
				harness.Podman(t, "push", "--quiet", "--tls-verify=false", "--format", "oci", ref)
				harness.Podman(t, "rmi", "--force", ref)
				harness.Podman(t, "pull", "--quiet", ref)
				if after := runImageOf(t, ref); after.RunImage.TopLayer != newTop {
					t.Errorf("pushed image's run image top layer %s, want %s", after.RunImage.TopLayer, newTop)
				}
				if status, _ := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 {
					t.Fatalf("GET / = %d after the rebase and push", status)
				}
				e.checkInspect(t, ref, true, newTop) // pack inspect shows the base image's top layer
			})
		})
	}
}

// requireOCI fails unless every image has OCI manifest, config and layer media types.
func requireOCI(t *testing.T, imgs ...v1.Image) {
	t.Helper()
	for _, img := range imgs {
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		mixed := m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON
		for _, l := range m.Layers {
			mixed = mixed || l.MediaType != types.OCILayer
		}
		if mixed {
			t.Fatalf("an input image of the rebase is not OCI throughout: %+v", m)
		}
	}
}

// packRebaseRunImage is run:static plus one file (rebuiltRunImage, labels unchanged), and its top
// layer's diff ID.
func packRebaseRunImage(t *testing.T) (v1.Image, string) {
	t.Helper()
	newRun := rebuiltRunImage(t, func(map[string]string) {})
	cf, err := newRun.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return newRun, cf.RootFS.DiffIDs[len(cf.RootFS.DiffIDs)-1].String()
}

func pushImage(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := image.Registry(r).Write(t.Context(), img); err != nil {
		t.Fatal(err)
	}
}

// rebaseInDaemon loads app into podman and rebases it there onto runRef,
// pulled from the registry.
func (e *packEnv) rebaseInDaemon(t *testing.T, app v1.Image, runRef, newTop string) {
	t.Helper()
	ref := "localhost/distill-it/rebase:" + strings.ReplaceAll(e.set.Name, ".", "-")
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	loadFresh(t, tag, app)
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", ref, podmanName(ref)).Run() })
	e.rebase(t, ref, runRef, newTop)
	ref = podmanName(ref)
	if status, _ := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d after the rebase", status)
	}
	e.checkInspect(t, ref, false, newTop)
}

// rebase runs pack rebase of ref in podman onto runRef (pulled first: with
// --pull-policy always pack would pull ref too) and checks the new top layer.
// --force: the app names its run image distill/run:static, not runRef.
func (e *packEnv) rebase(t *testing.T, ref, runRef, newTop string) {
	t.Helper()
	harness.Podman(t, "pull", "--quiet", runRef)
	if out, err := e.run("rebase", ref, "--run-image", runRef, "--pull-policy", "never", "--force"); err != nil {
		t.Fatalf("pack rebase %s: %v\n%s", ref, err, out)
	}
	if after := runImageOf(t, podmanName(ref)); after.RunImage.TopLayer != newTop {
		t.Errorf("top layer after rebase %s, want the rebuilt run image's %s", after.RunImage.TopLayer, newTop)
	}
}

// checkPackMixesMediaTypes: the image pack rebase --publish wrote has a
// Docker v2s2 manifest over OCI layers, though every image it was made of is
// OCI throughout.
func checkPackMixesMediaTypes(t *testing.T, ref string) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatalf("reading %s back: %v", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	oci := 0
	for _, l := range m.Layers {
		if l.MediaType == types.OCILayer {
			oci++
		}
	}
	if m.MediaType != types.DockerManifestSchema2 || oci == 0 {
		t.Errorf("pack rebase --publish wrote a %s manifest with %d OCI layers of %d: pack no longer mixes media types; "+
			"drop the podman detour from docs/PLATFORMS.md and this check", m.MediaType, oci, len(m.Layers))
	}
}

// TestLifecycleCreator: the lifecycle's creator of every tool set, run in
// the builder image against the registry at the Platform APIs its platforms
// use (0.9: kpack, Tekton's `buildpacks` task; 0.13; 0.15 where the lifecycle
// speaks it), builds the Go sample onto run:base; the image serves. The runs
// of one tool set share a cache directory.
func TestLifecycleCreator(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	for _, e := range packFixtures(t) {
		t.Run(e.set.Name, func(t *testing.T) {
			harness.Podman(t, "pull", "--quiet", e.distillBuilder)
			cache := t.TempDir()
			chownCNB(t, cache)
			for _, api := range e.set.PlatformAPIs {
				t.Run(api, func(t *testing.T) { e.checkCreator(t, api, cache) })
			}
		})
	}
}

func (e *packEnv) checkCreator(t *testing.T, api, cache string) {
	t.Helper()
	ws := copyApp(t, "samples/go-mux")
	chownCNB(t, ws)
	ref := e.prefix + "/creator:" + strings.ReplaceAll(e.set.Name+"-"+api, ".", "-")
	start := time.Now()
	harness.Podman(t, "run", "--rm", "--network", "host", "--env", "CNB_PLATFORM_API="+api,
		"--volume", ws+":/workspace", "--volume", cache+":/cache",
		"--volume", e.bindings+":/platform/bindings/ca-certificates:ro",
		e.distillBuilder,
		"/cnb/lifecycle/creator", "-cache-dir", "/cache", "-run-image", e.prefix+"/distill/run:base", ref)
	t.Logf("%s creator at Platform API %s: %.1f s", e.set.Name, api, time.Since(start).Seconds())
	harness.Podman(t, "pull", "--quiet", ref)
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", ref).Run() })
	if md := runImageOf(t, ref); !strings.HasSuffix(md.runImage(), "distill/run:base") {
		t.Errorf("run image %q, want .../distill/run:base", md.runImage())
	}
	if status, _ := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d", status)
	}
}

// chownCNB hands dir to the builder's CNB user (1000:1000).
func chownCNB(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("chown", "-R", "1000:1000", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v %s", dir, err, out)
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
// Node and Python fixtures too (on run:base), each on one tool set and flow,
// and they answer on $PORT.
func TestPackBuildNodePython(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	sets := harness.ToolSets(t)
	idx := pythonIndex(t)
	for _, app := range []struct {
		name, dir string
		set       harness.ToolSet
		flow      packFlow
		extra     []string
	}{
		{"node-express", "samples/node-express", sets[len(sets)-1], packFlows[1], nil},
		{"python-flask", "integration/testdata/python/flask-procfile", sets[0], packFlows[0],
			[]string{"--env", "PIP_INDEX_URL=" + idx.URL}},
	} {
		t.Run(app.name+"/"+app.set.Name+"/"+app.flow.name, func(t *testing.T) {
			e := packFixture(t, app.set)
			tag := "localhost/distill-it/pack-" + app.name + ":latest"
			_, took, local := e.build(t, copyApp(t, app.dir), e.distillBuilder, tag, e.cacheVolume(app.name), app.flow, app.extra...)
			t.Logf("pack build of %s: %.1f s, image %s bytes", app.name, took.Seconds(), imageSize(t, local))
			if md := runImageOf(t, local); !strings.HasSuffix(md.RunImage.Image, "distill/run:base") {
				t.Errorf("run image %q, want .../distill/run:base", md.RunImage.Image)
			}
			if status, _ := harness.Run(t, local).WaitHTTP(t, "/"); status != 200 {
				t.Fatalf("GET / = %d", status)
			}
		})
	}
}
