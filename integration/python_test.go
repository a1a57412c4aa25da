package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/integration/pyindex"
	"github.com/distill-build/distill/internal/testenv"
)

// pythonSizeTarget is the target for the Flask + gunicorn image (compressed).
const pythonSizeTarget = 30_000_000

var (
	pyIndexOnce sync.Once
	pyIndexDir  string
	pyIndexErr  error
)

// pythonIndex serves the test wheels (built once from Debian trixie's python3-* packages and
// cached in .cache/pyindex) on 127.0.0.1 for this test; builds reach it through the host network.
func pythonIndex(t *testing.T) *pyindex.Server {
	t.Helper()
	pyIndexOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		pyIndexDir, pyIndexErr = pyindex.Ensure(ctx, filepath.Join(repoRoot, ".cache", "pyindex"), pyindex.DebianPackages, t.Logf)
	})
	if pyIndexErr != nil {
		t.Fatalf("building the test wheel index: %v", pyIndexErr)
	}
	s, err := pyindex.Serve(pyIndexDir, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pyBuild runs distill build on a copy of integration/testdata/python/<name>.
func pyBuild(t *testing.T, idx *pyindex.Server, app, out, cache string, args ...string) build {
	t.Helper()
	args = append([]string{"-o", "oci:" + out, "--cache-dir", cache, "--env", "PIP_INDEX_URL=" + idx.URL}, args...)
	return distill(t, app, args...)
}

// TestPythonApps builds each kind of Python app the buildpack supports, runs it with PORT set
// and checks its answer. The builds share one cache directory, so the CPython layer is prepared
// once.
func TestPythonApps(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	idx := pythonIndex(t)
	cache := filepath.Join(t.TempDir(), "cache")
	apps := []struct {
		name, want, process string
	}{
		{"flask-procfile", "hello from flask on python 3.13", "gunicorn --bind :$PORT"},
		{"flask-auto", "hello from flask (requests 2.32.3)", "gunicorn --bind :$PORT app:app"},
		{"pyproject", "hello from a pyproject.toml project", "project/bin/hello-server"},
		{"pipenv", "hello from a Pipfile.lock app", "gunicorn --bind :$PORT app:app"},
		{"poetry", "hello from a poetry.lock app", "gunicorn --bind :$PORT main:app"},
		{"uv", "hello from an ASGI app", "uvicorn --host 0.0.0.0 --port $PORT main:app"},
		{"nodeps-procfile", "hello from the standard library", "server.py"},
		{"nodeps-main", "hello from main.py", "main.py"},
	}
	for _, a := range apps {
		t.Run(a.name, func(t *testing.T) {
			app := copyApp(t, "integration/testdata/python/"+a.name)
			out := filepath.Join(t.TempDir(), "image")
			start := time.Now()
			b := pyBuild(t, idx, app, out, cache).must(t)
			t.Logf("built in %.1fs, %.1f MB compressed", time.Since(start).Seconds(), float64(b.report.Total.Compressed)/1e6)
			if !strings.Contains(b.stdout+b.stderr, a.process) {
				t.Errorf("the process is not %q:\n%s", a.process, b.stdout)
			}
			ref := harness.LoadOCI(t, out)
			c := harness.Run(t, ref)
			status, body := c.WaitHTTP(t, "/")
			if status != 200 || !strings.Contains(body, a.want) {
				t.Fatalf("GET / = %d %q, want %q", status, body, a.want)
			}
			checkStopsOnSIGTERM(t, c)
			if n := harness.CheckELFDeps(t, out); n < 10 {
				t.Errorf("checked %d ELF files, want CPython's and its extension modules", n)
			}
			switch a.name {
			case "pipenv", "poetry", "uv":
				// Lock files: exact pins, hashes checked, main group only (pytest is a dev
				// dependency and not even on the index).
				for _, p := range idx.Requests() {
					if strings.Contains(p, "pytest") {
						t.Errorf("the build asked the index for %s", p)
					}
				}
			}
		})
	}
}

// TestPythonFlaskImage checks the Flask + gunicorn image closely: contents, user, size, SBOM,
// and that a code-only rebuild reuses the CPython and dependency layers.
func TestPythonFlaskImage(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	idx := pythonIndex(t)
	app := copyApp(t, "integration/testdata/python/flask-procfile")
	cache := filepath.Join(t.TempDir(), "cache")
	out := filepath.Join(t.TempDir(), "image")

	start := time.Now()
	first := pyBuild(t, idx, app, out, cache).must(t)
	cold := time.Since(start)
	t.Logf("cold build %.1fs:\n%s", cold.Seconds(), first.stdout)
	ref := harness.LoadOCI(t, out)

	t.Run("serves on $PORT as non-root", func(t *testing.T) {
		c := harness.Run(t, ref)
		status, body := c.WaitHTTP(t, "/env")
		if status != 200 {
			t.Fatalf("GET /env = %d %q", status, body)
		}
		var env map[string]string
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			t.Fatalf("GET /env: %v: %q", err, body)
		}
		if env["PYTHONUNBUFFERED"] != "1" {
			t.Errorf("PYTHONUNBUFFERED = %q", env["PYTHONUNBUFFERED"])
		}
		cfg := harness.ImageConfig(t, ref)
		if cfg.User == "" || cfg.User == "0" || strings.HasPrefix(cfg.User, "root") || strings.HasPrefix(cfg.User, "0:") {
			t.Errorf("image user = %q, want the non-root CNB user", cfg.User)
		}
	})

	t.Run("no pip, compiler or shell; small", func(t *testing.T) {
		files := harness.Entries(t, out)
		for p := range files {
			base := filepath.Base(p)
			switch {
			case strings.Contains(p, "/site-packages/pip/"), strings.Contains(p, "/site-packages/setuptools/"),
				strings.Contains(p, "/site-packages/wheel/"), strings.Contains(p, "/ensurepip/"),
				strings.Contains(p, "/python3.13/test/"), strings.Contains(p, "/idlelib/"), strings.Contains(p, "/tkinter/"),
				strings.HasSuffix(p, ".h"), strings.HasSuffix(p, ".a"):
				t.Errorf("image has %s", p)
			case base == "sh" || base == "bash" || base == "dash" || base == "gcc" || base == "cc" || base == "pip" || base == "pip3":
				t.Errorf("image has %s", p)
			}
		}
		for _, p := range []string{"/layers/distill_python/venv/bin/gunicorn", "/layers/distill_python/cpython/bin/python3.13",
			"/layers/distill_python/cpython/lib/libexpat.so.1"} {
			if _, ok := files[p]; !ok {
				t.Errorf("image lacks %s", p)
			}
		}
		if first.report.Total.Compressed > pythonSizeTarget {
			t.Errorf("compressed size %d > target %d", first.report.Total.Compressed, pythonSizeTarget)
		}
		t.Logf("Flask + gunicorn image: %.1f MB compressed, %.1f MB uncompressed",
			float64(first.report.Total.Compressed)/1e6, float64(first.report.Total.Uncompressed)/1e6)
	})

	t.Run("SBOM lists the installed distributions", func(t *testing.T) {
		img := harness.Image(t, out)
		_ = img
		files := harness.Entries(t, out)
		found := false
		for p := range files {
			if strings.HasPrefix(p, "/layers/sbom/launch/distill_python/venv/") && strings.HasSuffix(p, "sbom.cdx.json") {
				found = true
			}
		}
		if !found {
			t.Errorf("no CycloneDX SBOM for the venv layer under /layers/sbom/launch/distill_python/venv/")
		}
	})

	t.Run("code-only rebuild reuses CPython and dependencies", func(t *testing.T) {
		main := filepath.Join(app, "main.py")
		src, err := os.ReadFile(main)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(main, []byte(strings.Replace(string(src), "hello from flask", "hello again from flask", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		second := pyBuild(t, idx, app, out, cache).must(t)
		t.Logf("warm build %.1fs (cold %.1fs)", time.Since(start).Seconds(), cold.Seconds())
		before, after := first.layerDigests(), second.layerDigests()
		for _, name := range []string{"distill/python:cpython", "distill/python:venv"} {
			if before[name] == "" || before[name] != after[name] {
				t.Errorf("layer %s: %q then %q, want the same digest", name, before[name], after[name])
			}
		}
		if before["app"] == after["app"] {
			t.Errorf("the app layer did not change")
		}
		ref := harness.LoadOCI(t, out)
		if status, body := harness.Run(t, ref).WaitHTTP(t, "/"); status != 200 || !strings.Contains(body, "hello again") {
			t.Errorf("GET / = %d %q after the change", status, body)
		}
	})
}

// TestPythonBadInput: wrong input fails the build with a message that says what is wrong.
func TestPythonBadInput(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	idx := pythonIndex(t)
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown package", map[string]string{"requirements.txt": "no-such-distribution-xyz==1.0\n", "main.py": ""},
			[]string{"No matching distribution found for no-such-distribution-xyz==1.0"}},
		{"requirements syntax error", map[string]string{"requirements.txt": "flask===>3\n", "main.py": ""},
			[]string{"requirements.txt"}},
		{"conflicting pins", map[string]string{"requirements.txt": "flask==3.1.1\nwerkzeug==2.0.0\n", "main.py": ""},
			[]string{"werkzeug"}},
		{"version the builder lacks", map[string]string{".python-version": "3.11\n", "main.py": ""},
			[]string{".python-version asks for Python \"3.11\"", "CPython 3.13"}},
		{"requires-python the builder lacks", map[string]string{"pyproject.toml": "[project]\nname = \"x\"\nversion = \"1\"\nrequires-python = \"<3.13\"\n", "main.py": ""},
			[]string{"requires-python asks for Python \"<3.13\"", "CPython 3.13"}},
		{"shell syntax in Procfile", map[string]string{"Procfile": "web: python a.py | tee log\n", "a.py": ""},
			[]string{"cannot run without a shell", "pipes (|) need a shell"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := t.TempDir()
			for n, content := range c.files {
				if err := os.WriteFile(filepath.Join(app, n), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "image")
			b := pyBuild(t, idx, app, out, filepath.Join(t.TempDir(), "cache"))
			if b.err == nil {
				t.Fatalf("the build succeeded:\n%s", b.stdout)
			}
			for _, w := range c.want {
				if !strings.Contains(b.stdout+b.stderr, w) {
					t.Errorf("output lacks %q:\n%s\n%s", w, b.stdout, b.stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "index.json")); err == nil {
				t.Errorf("an image was written")
			}
		})
	}
}

// lockHash is one file pin of a poetry.lock: its file name and sha256.
var lockHash = regexp.MustCompile(`file = "([^"]+)", hash = "sha256:([0-9a-f]{64})"`)

// relock rewrites the sha256 pins of a poetry.lock made against another repack of the same
// Debian wheels to what this machine's index serves under the same file names, as re-locking
// against this index would; a file the index does not serve fails the test.
func relock(t *testing.T, idx *pyindex.Server, lock string) {
	t.Helper()
	data, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	var failed error
	data = lockHash.ReplaceAllFunc(data, func(m []byte) []byte {
		file := string(lockHash.FindSubmatch(m)[1])
		sum, err := idx.FileSHA256(file)
		if err != nil {
			failed = fmt.Errorf("%s pins %s: %w", lock, file, err)
			return m
		}
		return []byte(fmt.Sprintf(`file = %q, hash = "sha256:%s"`, file, sum))
	})
	if failed != nil {
		t.Fatal(failed)
	}
	if err := os.WriteFile(lock, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pythonFlaskBudget is the ceiling for a Flask image (compressed).
const pythonFlaskBudget = 20_000_000

// TestPythonShapes builds the app shapes of issue 13 (items 13 and 14): a Poetry app that is not
// a package (its locked dependencies installed, the root not, with poetry install's warning),
// a Procfile in the shared process-command grammar, and the shared Poetry case (its lock re-pinned
// to this index's wheels); each runs in podman and answers over HTTP. A lock whose hashes the
// index does not serve fails, naming the lock file and the fix.
func TestPythonShapes(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	idx := pythonIndex(t)
	cache := filepath.Join(t.TempDir(), "cache")
	apps := []struct {
		name, dir, want string
		log             []string
	}{
		{"poetry-nonpackage", "integration/testdata/python/poetry-nonpackage", "inventory: 2 items tracked",
			[]string{"the current project could not be installed", "gunicorn --bind :$PORT wsgi:app"}},
		{"poetry-case", sharedCase("py-poetry-nonpackage"), "py-poetry-nonpackage OK",
			[]string{"the current project could not be installed", "(from poetry.lock)"}},
		{"procfile-grammar", "integration/testdata/python/procfile-grammar", "hello from one grammar; MODE=prod; cwd=srv; args=--port ",
			[]string{"through distill_exec.py, no shell"}},
	}
	for _, a := range apps {
		t.Run(a.name, func(t *testing.T) {
			var app string
			if filepath.IsAbs(a.dir) {
				app = copySharedCase(t, a.dir)
				relock(t, idx, filepath.Join(app, "poetry.lock"))
			} else {
				app = copyApp(t, a.dir)
			}
			out := filepath.Join(t.TempDir(), "image")
			b := pyBuild(t, idx, app, out, cache).must(t)
			for _, l := range a.log {
				if !strings.Contains(b.stdout+b.stderr, l) {
					t.Errorf("the build log lacks %q:\n%s", l, b.stdout)
				}
			}
			status, body := harness.Run(t, harness.LoadOCI(t, out)).WaitHTTP(t, "/")
			if status != 200 || !strings.Contains(body, a.want) {
				t.Fatalf("GET / = %d %q, want %q", status, body, a.want)
			}
			for _, p := range idx.Requests() {
				if strings.Contains(p, "poetry") || strings.Contains(p, "pytest") {
					t.Errorf("the build asked the index for %s", p)
				}
			}
			if c := b.report.Total.Compressed; c > pythonFlaskBudget {
				t.Errorf("compressed size %.1f MB > %.1f MB", float64(c)/1e6, float64(pythonFlaskBudget)/1e6)
			}
		})
	}
	t.Run("lock hashes the index does not serve", func(t *testing.T) {
		app := copySharedCase(t, sharedCase("py-poetry-nonpackage"))
		lock := filepath.Join(app, "poetry.lock")
		relock(t, idx, lock)
		data := mustRead(t, lock)
		first := lockHash.FindSubmatchIndex(data) // the first pin's hex digest: data[first[4]:first[5]]
		copy(data[first[4]:first[5]], strings.Repeat("0", 64))
		if err := os.WriteFile(lock, data, 0o644); err != nil {
			t.Fatal(err)
		}
		b := pyBuild(t, idx, app, filepath.Join(t.TempDir(), "image"), cache)
		if b.err == nil {
			t.Fatal("a lock file whose hashes the index does not serve built")
		}
		if !strings.Contains(b.stderr, "poetry.lock pins hashes that the package index does not serve") {
			t.Errorf("the error does not name poetry.lock and the fix:\n%s", b.stderr)
		}
	})
}

// mustRead reads a file or fails the test.
func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
