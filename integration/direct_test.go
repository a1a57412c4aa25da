package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/testenv"
)

// cnbUser is the CNB user of distill/build (stacks/build.toml).
const cnbUser = "1000:1000"

// TestDirectInBuildImage builds the Go sample twice: on the host (runc), and
// inside an unprivileged container started from the build image as the CNB
// user (`podman run --user 1000:1000`, no --privileged: a CI step), where
// distill cannot start containers and runs the buildpacks directly. Both
// images have the same digest, and the one built in the container serves.
func TestDirectInBuildImage(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	app := copyApp(t, "samples/go-mux")
	hostOut := filepath.Join(t.TempDir(), "host")
	onHost := distill(t, app, "-o", "oci:"+hostOut, "--cache-dir", filepath.Join(t.TempDir(), "cache")).must(t)
	if strings.Contains(onHost.stderr+onHost.stdout, "Direct mode") {
		t.Fatalf("the host build ran in direct mode:\n%s", onHost.stderr)
	}

	work := t.TempDir()
	bin := staticDistill(t, work)
	cache := filepath.Join(work, "cache") // XDG_CACHE_HOME in the container
	copyRunImages(t, filepath.Join(cache, "distill", "images"))
	out := filepath.Join(work, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{cache, out} {
		if b, err := exec.Command("chown", "-R", cnbUser, d).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v %s", d, err, b)
		}
	}
	buildImage := loadBuildImage(t)

	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, "podman", "run", "--rm", "--user", cnbUser, "--network", "host",
		"--env", "XDG_CACHE_HOME=/cache",
		"--volume", bin+":/usr/local/bin/distill:ro",
		"--volume", app+":/src:ro",
		"--volume", "/etc/ssl/certs/ca-certificates.crt:/certs/ca.crt:ro",
		"--volume", cache+":/cache",
		"--volume", out+":/out",
		buildImage,
		"distill", "build", "/src", "--ca-certs", "/certs/ca.crt",
		"-o", "oci:/out/x", "--report-json", "/out/report.json")
	b, err := run.CombinedOutput()
	logs := string(b)
	if err != nil {
		t.Fatalf("distill build in the container: %v\n%s", err, logs)
	}
	t.Logf("build in the container (%.1f s):\n%s", time.Since(start).Seconds(), tail(logs, 30))
	if !strings.Contains(logs, "Direct mode: distill cannot start containers here") {
		t.Errorf("the log does not show direct mode:\n%s", logs)
	}
	inBox := readReport(t, filepath.Join(out, "report.json"))
	if inBox.Digest == "" || inBox.Digest != onHost.report.Digest {
		t.Errorf("digest in the container %q, on the host %q: want the same image", inBox.Digest, onHost.report.Digest)
	}
	ref := harness.LoadOCI(t, filepath.Join(out, "x"))
	if status, body := harness.Run(t, ref).WaitHTTP(t, "/hello/distill"); status != 200 || !strings.Contains(body, "hello, distill") {
		t.Fatalf("GET /hello/distill = %d %q", status, body)
	}
}

// staticDistill builds a static distill binary (the build image's libc is
// not the host's) into dir.
func staticDistill(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "distill")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/distill")
	cmd.Dir, cmd.Env = repoRoot, append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a static distill: %v\n%s", err, b)
	}
	return bin
}

// copyRunImages puts the run images of the local store into a new store at
// dir, the copy the container reads.
func copyRunImages(t *testing.T, dir string) {
	t.Helper()
	from, err := image.OpenStore(mustStoreDir(t))
	if err != nil {
		t.Fatal(err)
	}
	to, err := image.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"distill/run:base", "distill/run:static"} {
		img, err := from.Get(ref)
		if err != nil {
			t.Fatalf("the host build left no %s in the store: %v", ref, err)
		}
		if err := to.Put(context.Background(), ref, img); err != nil {
			t.Fatal(err)
		}
	}
}

// loadBuildImage loads distill/build:latest from the local store into
// podman under a tag of this test, removed at the end.
func loadBuildImage(t *testing.T) string {
	t.Helper()
	store, err := image.OpenStore(mustStoreDir(t))
	if err != nil {
		t.Fatal(err)
	}
	img, err := store.Get("distill/build:latest")
	if err != nil {
		t.Fatalf("the host build left no build image in the store: %v", err)
	}
	tag, err := name.NewTag("localhost/distill-it/build:direct")
	if err != nil {
		t.Fatal(err)
	}
	loadFresh(t, tag, img)
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", tag.String()).Run() })
	return tag.String()
}

func readReport(t *testing.T, p string) jsonReport {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the build in the container wrote no report: %v", err)
	}
	var r jsonReport
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("decoding %s: %v", p, err)
	}
	return r
}
