package integration

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// goShapes builds Go fixtures into OCI layouts with one shared cache.
type goShapes struct{ cache string }

// build runs distill on a copy of integration/testdata/go/<fixture>; it returns the build and the layout.
func (g goShapes) build(t *testing.T, fixture string, args ...string) (build, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image")
	b := distill(t, copyApp(t, "integration/testdata/go/"+fixture), append([]string{"-o", "oci:" + out, "--cache-dir", g.cache}, args...)...)
	return b, out
}

// serve runs the image in the layout out and checks that GET path answers 200 with want in the body.
func serve(t *testing.T, out, path, want string) {
	t.Helper()
	status, body := harness.Run(t, harness.LoadOCI(t, out)).WaitHTTP(t, path)
	if status != 200 || !strings.Contains(body, want) {
		t.Fatalf("GET %s = %d %q, want %q", path, status, body, want)
	}
}

// small checks the Go size target and the static run image.
func small(t *testing.T, b build) {
	t.Helper()
	if b.report.Total.Compressed > sizeTarget {
		t.Errorf("compressed size %d > target %d", b.report.Total.Compressed, sizeTarget)
	}
	if !strings.Contains(b.stdout, "run image  distill/run:static") {
		t.Errorf("not on run:static:\n%s", b.stdout)
	}
}

// TestGoShapes builds Go apps in the shapes users have beyond a plain module (issue 13, Go items):
// a main package without go.mod, a go.work without a root go.mod, a go directive that is only a
// minimum, and an app that reads templates, static files and data at run time. The builds share
// one cache, as a CI cache would, so the Go toolchain is downloaded once.
func TestGoShapes(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	g := goShapes{cache: filepath.Join(t.TempDir(), "cache")}
	buildFixture := g.build
	t.Run("go directive is a minimum", func(t *testing.T) {
		b, out := buildFixture(t, "go-min-version")
		b.must(t)
		newest := newestGo(t)
		if !strings.Contains(b.stderr+b.stdout, "Go "+newest) || !strings.Contains(b.stderr+b.stdout, "the newest Go satisfying >= 1.15.0 (go.mod go directive)") {
			t.Errorf("log does not say Go %s is the newest satisfying go 1.15:\n%s", newest, b.stderr)
		}
		serve(t, out, "/", "go"+newest)
		small(t, b)
	})

	t.Run("BP_GO_VERSION pins exactly", func(t *testing.T) {
		b, out := buildFixture(t, "go-min-version", "--env", "BP_GO_VERSION=1.24.4")
		b.must(t)
		if !strings.Contains(b.stderr+b.stdout, "pinned by BP_GO_VERSION=1.24.4") {
			t.Errorf("log does not say the version is pinned:\n%s", b.stderr)
		}
		serve(t, out, "/", "go1.24.4")
	})

	t.Run("main package without go.mod", func(t *testing.T) {
		b, out := buildFixture(t, "gopath-main")
		b.must(t)
		if !strings.Contains(b.stderr+b.stdout, `No go.mod: building the main package as module "app"`) {
			t.Errorf("log does not say the app was built as a module of its own:\n%s", b.stderr)
		}
		serve(t, out, "/", "gopath-main OK")
		small(t, b)
	})

	t.Run("go.work without root go.mod", func(t *testing.T) {
		b, out := buildFixture(t, "go-work", "--env", "BP_GO_TARGETS=./api")
		b.must(t)
		serve(t, out, "/", "go-work api OK (from the greet module)")
		small(t, b)
	})

	t.Run("shared case go-work-noroot", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "image")
		app := copySharedCase(t, sharedCase("go-work-noroot"))
		b := distill(t, app, "-o", "oci:"+out, "--cache-dir", g.cache, "--env", "BP_GO_TARGETS=./api")
		b.must(t)
		serve(t, out, "/", "go-work-noroot OK")
		small(t, b)
	})

	t.Run("go.work with two programs and no target", func(t *testing.T) {
		b, _ := buildFixture(t, "go-work")
		if b.err == nil {
			t.Fatal("an ambiguous workspace built")
		}
		for _, want := range []string{"go.work uses several modules with main packages (./api, ./worker)", "BP_GO_TARGETS=./api"} {
			if !strings.Contains(b.stderr, want) {
				t.Errorf("error lacks %q:\n%s", want, b.stderr)
			}
		}
	})

	t.Run("files read at run time are kept", func(t *testing.T) { checkRuntimeFiles(t, g) })
}

// checkRuntimeFiles builds the runtime-files fixture and checks that its templates, static files
// and data file are in the image and served, and its source and notes are not.
func checkRuntimeFiles(t *testing.T, g goShapes) {
	b, out := g.build(t, "runtime-files")
	b.must(t)
	for _, want := range []string{"Keeping templates for run time: conventional asset directory", "Keeping data/motto.txt for run time: named in main.go"} {
		if !strings.Contains(b.stderr+b.stdout, want) {
			t.Errorf("log lacks %q:\n%s", want, b.stderr)
		}
	}
	c := harness.Run(t, harness.LoadOCI(t, out))
	if status, body := c.WaitHTTP(t, "/"); status != 200 || !strings.Contains(body, "runtime-files OK") || !strings.Contains(body, "kept because main.go names it") {
		t.Errorf("GET / = %d %q", status, body)
	}
	if status, body := c.WaitHTTP(t, "/static/site.css"); status != 200 || !strings.Contains(body, "runtime-files css") {
		t.Errorf("GET /static/site.css = %d %q", status, body)
	}
	files := harness.Entries(t, out)
	for _, gone := range []string{"/workspace/main.go", "/workspace/go.mod", "/workspace/NOTES.md"} {
		if _, ok := files[gone]; ok {
			t.Errorf("image still has %s", gone)
		}
	}
	// html/template reaches methods through reflection, so the linker keeps every exported method:
	// this binary is ~1 MB bigger than a mux app's whatever the buildpack does. What keeping the
	// run-time files costs is the app layer (/workspace): a few KB.
	for _, l := range b.report.Layers {
		if l.Name == "app" && l.Compressed > 16_000 {
			t.Errorf("the app layer with the kept files is %d bytes compressed", l.Compressed)
		}
	}
	if b.report.Total.Compressed > 4_500_000 {
		t.Errorf("compressed size %d > 4.5 MB", b.report.Total.Compressed)
	}
	if !strings.Contains(b.stdout, "run image  distill/run:static") {
		t.Errorf("not on run:static:\n%s", b.stdout)
	}
	t.Logf("build log:\n%s\n%s", b.stderr, b.stdout)
}

var toolchainRE = regexp.MustCompile(`^v0\.0\.1-go1\.(\d+)\.(\d+)\.linux-amd64$`)

// newestGo asks the go command on this machine for the newest Go release the module proxy serves.
func newestGo(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-versions", "golang.org/toolchain")
	cmd.Dir = t.TempDir()
	cmd.Env = append(cmd.Environ(), "GOTOOLCHAIN=local", "GO111MODULE=on", "GOFLAGS=")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("listing Go toolchains: %v", err)
	}
	best := [2]int{-1, -1}
	for _, f := range strings.Fields(string(raw)) {
		m := toolchainRE.FindStringSubmatch(f)
		if m == nil {
			continue
		}
		minor, _ := strconv.Atoi(m[1])
		patch, _ := strconv.Atoi(m[2])
		if minor > best[0] || (minor == best[0] && patch > best[1]) {
			best = [2]int{minor, patch}
		}
	}
	if best[0] < 0 {
		t.Fatalf("no linux-amd64 Go release listed:\n%s", raw)
	}
	return "1." + strconv.Itoa(best[0]) + "." + strconv.Itoa(best[1])
}
