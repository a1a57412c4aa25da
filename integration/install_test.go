package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// TestInstalledBinary is what a new user does: the distill binary copied
// somewhere outside the checkout, an app of their own elsewhere, and
// `distill build` in the app directory with no flags. The image lands in
// the local podman, runs, can be saved back out of podman, the app directory
// is left as it was, a second build gives the same image, and a cache entry
// unused for a month is gone.
func TestInstalledBinary(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	home := t.TempDir()
	bin := filepath.Join(home, "bin", "distill")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", distillBin, bin).CombinedOutput(); err != nil {
		t.Fatalf("installing the binary: %v: %s", err, out)
	}
	name := "distill-" + strings.ToLower(filepath.Base(filepath.Dir(home)))
	app := filepath.Join(home, "src", name)
	if err := os.MkdirAll(filepath.Dir(app), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-r", filepath.Join(repoRoot, "samples", "go-mux"), app).CombinedOutput(); err != nil {
		t.Fatalf("copying the app: %v: %s", err, out)
	}
	// An app of its own: podman shares layers by content, and other tests load
	// this sample's layers zstd-compressed, which podman save cannot write.
	src := filepath.Join(app, "main.go")
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte(strings.Replace(string(code), "hello from distill", "hello from "+name, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treeDigest(t, app)
	ref := "localhost/" + name + ":latest"
	t.Cleanup(func() { exec.Command("podman", "rmi", "--force", ref).Run() })

	// A build cache nobody has used for a month: the build removes it.
	stale := filepath.Join(userCacheRoot(t), "cache", "stale-"+name)
	testenv.WriteFile(t, filepath.Join(stale, "data"), "unused")
	month := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(stale, month, month); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stale) })

	first := runInstalled(t, bin, app)
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("the build left %s, unused for 30 days, in the cache", stale)
	}
	if !strings.Contains(first, ref) || !strings.Contains(first, "podman run") {
		t.Fatalf("the last line should say the image is in podman as %s and how to run it:\n%s", ref, first)
	}
	if after := treeDigest(t, app); after != before {
		t.Fatalf("distill build changed the app directory %s", app)
	}
	c := harness.Run(t, ref)
	if status, body := c.WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d %q", status, body)
	}
	archive := filepath.Join(t.TempDir(), "saved.tar")
	if out, err := exec.Command("podman", "save", "-o", archive, ref).CombinedOutput(); err != nil {
		t.Fatalf("podman save %s: %v: %s", ref, err, out)
	}

	second := runInstalled(t, bin, app)
	if a, b := imageDigest(t, first), imageDigest(t, second); a != b {
		t.Fatalf("a rebuild of the unchanged app gave %s, then %s", a, b)
	}
	if after := treeDigest(t, app); after != before {
		t.Fatalf("the second build changed the app directory %s", app)
	}
}

// userCacheRoot is distill's cache root for this user, as the binary finds it.
func userCacheRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "distill")
}

// runInstalled runs `distill build` with no arguments in app, with the
// installed binary and a PATH without the checkout's tools.
func runInstalled(t *testing.T, bin, app string) string {
	t.Helper()
	cmd := exec.Command(bin, "build")
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+harness.DockerHost())
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("distill build in %s: %v\n%s\n%s", app, err, out, stderr)
	}
	return string(out)
}

var digestRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

func imageDigest(t *testing.T, report string) string {
	t.Helper()
	d := digestRE.FindString(report)
	if d == "" {
		t.Fatalf("no image digest in the report:\n%s", report)
	}
	return d
}

// treeDigest hashes every path, mode and file content under dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00" + info.Mode().String() + "\x00"))
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
