package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// nodeSizeLimit bounds the Express image's compressed size. The target is 45 MB; with gzip
// layers the official (stripped) Node.js 24 binary alone is 41.6 MB and run:base 6.9 MB, so the
// test guards against regressions above today's ~49 MB and logs the size for the report.
const nodeSizeLimit = 52_000_000

// nodeFixture is one sample app and what its image must do.
type nodeFixture struct {
	sample  string
	body    string // the answer on / contains this
	devDep  string // a dev dependency that must not be in the image ("" for none)
	process string // the entrypoint contains this

	// A code-only change: file, old text, new text; the rebuild must reuse the node and
	// node_modules layers.
	change [3]string
}

var nodeFixtures = []nodeFixture{
	{sample: "samples/node-express", body: "hello from distill/node express", devDep: "chai", process: "server.js",
		change: [3]string{"server.js", "hello from distill/node express", "hello again from distill/node express"}},
	{sample: "samples/node-typescript", body: "hello from distill/node typescript", devDep: "typescript", process: "dist/server.js",
		change: [3]string{"src/server.ts", "hello from distill/node typescript", "hello again from distill/node typescript"}},
	{sample: "samples/node-yarn", body: "hello from distill/node yarn classic", devDep: "chai", process: "server.js"},
	{sample: "samples/node-berry", body: "hello from distill/node yarn berry", devDep: "chai", process: "server.js"},
	{sample: "samples/node-pnpm", body: "hello from distill/node pnpm", devDep: "chai", process: "server.js"},
	{sample: "samples/node-nodeps", body: "hello from distill/node nodeps (NODE_ENV=production)", process: "launch.js"},
	{sample: "samples/node-native", body: "hello from distill/node native addon", process: "server.js"},
	{sample: "samples/node-server-only", body: "hello from distill/node server-only", process: "server.js"},
}

// TestNodeApps builds every Node.js sample with one shared build cache (so Node.js is downloaded
// once), runs each image and checks what it holds, then checks that broken apps fail cleanly.
func TestNodeApps(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	cache := filepath.Join(t.TempDir(), "cache")
	for _, fx := range nodeFixtures {
		t.Run(filepath.Base(fx.sample), func(t *testing.T) {
			app := copyApp(t, fx.sample)
			out := filepath.Join(t.TempDir(), "image")
			start := time.Now()
			first := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
			logBuild(t, start, first)
			checkNodeImage(t, fx, out, fx.body)

			if fx.sample == "samples/node-express" && first.report.Total.Compressed > nodeSizeLimit {
				t.Errorf("Express image: %d bytes compressed > %d", first.report.Total.Compressed, nodeSizeLimit)
			}
			if fx.change[0] == "" {
				return
			}
			if fx.sample == "samples/node-express" {
				again := distill(t, app, "-o", "oci:"+filepath.Join(t.TempDir(), "again"), "--cache-dir", cache).must(t)
				if again.report.Digest != first.report.Digest {
					t.Errorf("an unchanged rebuild gave %s, the first build %s", again.report.Digest, first.report.Digest)
				}
			}
			file := filepath.Join(app, fx.change[0])
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(strings.Replace(string(src), fx.change[1], fx.change[2], 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			start = time.Now()
			second := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
			t.Logf("code-only rebuild: %.1fs", time.Since(start).Seconds())
			before, after := first.layerDigests(), second.layerDigests()
			modules := "distill/node:node-modules"
			if _, traced := before["distill/node:node-modules-traced"]; traced {
				modules = "distill/node:node-modules-traced"
			}
			for _, name := range []string{"distill/node:node-runtime", modules} {
				if _, ok := before[name]; !ok && name == modules && fx.devDep == "typescript" {
					continue // no production dependencies
				}
				if before[name] == "" || before[name] != after[name] {
					t.Errorf("layer %s: %q then %q, want it reused", name, before[name], after[name])
				}
			}
			if before["app"] == after["app"] {
				t.Errorf("the app layer did not change")
			}
			for _, want := range []string{"Reusing cached Node.js", "Reusing the launch layer"} {
				if !strings.Contains(second.stdout+second.stderr, want) {
					t.Errorf("rebuild did not say %q", want)
				}
			}
			checkNodeImage(t, fx, out, fx.change[2])
		})
	}
	t.Run("bad input", func(t *testing.T) { nodeBadInput(t, cache) })
}

// checkNodeImage runs the image with $PORT and checks its answer, its user and its files.
func checkNodeImage(t *testing.T, fx nodeFixture, out, body string) {
	t.Helper()
	ref := harness.LoadOCI(t, out)
	c := harness.Run(t, ref)
	status, got := c.WaitHTTP(t, "/")
	if status != 200 || !strings.Contains(got, body) {
		t.Errorf("GET / = %d %q, want %q", status, got, body)
	}
	checkStopsOnSIGTERM(t, c)
	cfg := harness.ImageConfig(t, ref)
	if cfg.User == "" || cfg.User == "0" || strings.HasPrefix(cfg.User, "root") || strings.HasPrefix(cfg.User, "0:") {
		t.Errorf("image user = %q, want the non-root CNB user", cfg.User)
	}
	if cfg.Getenv("NODE_ENV") != "production" {
		t.Errorf("NODE_ENV = %q, want production", cfg.Getenv("NODE_ENV"))
	}
	if ep := strings.Join(cfg.Entrypoint, " "); !strings.HasPrefix(ep, "/layers/distill_node/node-runtime/bin/node ") || !strings.Contains(ep, fx.process) {
		t.Errorf("entrypoint %q, want the launch layer's node running %s", ep, fx.process)
	}

	harness.CheckELFDeps(t, out)
	files := harness.Entries(t, out)
	if _, ok := files["/layers/distill_node/node-runtime/bin/node"]; !ok {
		t.Errorf("image lacks /layers/distill_node/node-runtime/bin/node")
	}
	for p := range files {
		base := filepath.Base(p)
		switch {
		case base == "npm-cli.js" || strings.Contains(p, "node_modules/npm/") || base == "npm" || base == "npx":
			t.Errorf("image holds npm: %s", p)
		case strings.Contains(p, "include/node/"):
			t.Errorf("image holds Node.js headers: %s", p)
		case p == "/bin/sh" || p == "/usr/bin/sh" || p == "/bin/bash" || p == "/usr/bin/bash" || p == "/usr/bin/dash":
			t.Errorf("image holds a shell: %s", p)
		case fx.devDep != "" && (strings.Contains(p, "node_modules/"+fx.devDep+"/") || strings.Contains(p, "/"+fx.devDep+"@")):
			t.Errorf("image holds the dev dependency %s: %s", fx.devDep, p)
		}
	}
}

// reportTable is the size table at the end of distill's output.
func reportTable(stdout string) string {
	if i := strings.Index(stdout, "LAYER "); i >= 0 {
		return stdout[i:]
	}
	return stdout
}

// nodeBadInput checks that broken apps fail with the tool's own output and write nothing. It runs
// inside TestNodeApps to use its cache (a failed build leaves the cache as it was).
func nodeBadInput(t *testing.T, cache string) {
	tests := []struct {
		name  string
		setup func(t *testing.T, app string)
		want  []string
	}{
		{
			name: "malformed package.json",
			setup: func(t *testing.T, app string) {
				os.WriteFile(filepath.Join(app, "package.json"), []byte("{\n  \"name\": \"broken\",\n  \"dependencies\": {\n}\n"), 0o644)
			},
			want: []string{"package.json is not valid JSON", "line "},
		},
		{
			name: "lock file out of sync",
			setup: func(t *testing.T, app string) {
				p := filepath.Join(app, "package.json")
				b, _ := os.ReadFile(p)
				os.WriteFile(p, []byte(strings.Replace(string(b), `"express": "^4.21.2"`, `"express": "^4.21.2",
    "left-pad": "^1.3.0"`, 1)), 0o644)
			},
			want: []string{"npm ci", "in sync"},
		},
		{
			name: "failing build script",
			setup: func(t *testing.T, app string) {
				p := filepath.Join(app, "package.json")
				b, _ := os.ReadFile(p)
				os.WriteFile(p, []byte(strings.Replace(string(b), `"start": "node server.js",`,
					`"start": "node server.js",
    "build": "node -e \"console.error('the build is broken'); process.exit(3)\"",`, 1)), 0o644)
			},
			want: []string{"the build is broken", `"build" script failed`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := copyApp(t, "samples/node-express")
			tt.setup(t, app)
			out := filepath.Join(t.TempDir(), "image")
			b := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache)
			if b.err == nil {
				t.Fatal("the build succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(b.stdout+b.stderr, w) {
					t.Errorf("output lacks %q:\n%s", w, b.stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s written by a failed build (err %v)", out, err)
			}
		})
	}
}

// checkStopsOnSIGTERM stops c with a grace period podman then ends with
// SIGKILL (exit status 137): the app as PID 1 must exit on the SIGTERM itself
// (143 from the Node.js buildpack's signals.js or the Python buildpack's
// distill_signals.py, or whatever the app's own handler returns).
func checkStopsOnSIGTERM(t *testing.T, c *harness.Container) {
	t.Helper()
	harness.Podman(t, "stop", "--time", "20", c.ID)
	code := strings.TrimSpace(harness.Podman(t, "inspect", "--format", "{{.State.ExitCode}}", c.ID))
	if code == "137" {
		t.Errorf("podman stop: the container ignored SIGTERM and was killed (exit status 137)")
	}
}

// logBuild logs a build's time since start, its compressed size and its
// size table.
func logBuild(t *testing.T, start time.Time, b build) {
	t.Helper()
	t.Logf("build: %.1fs, %d bytes compressed\n%s", time.Since(start).Seconds(), b.report.Total.Compressed, reportTable(b.stdout))
}

// checkLog fails t for each of wants that the build's output (stdout and
// stderr) lacks.
func checkLog(t *testing.T, b build, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(b.stdout+b.stderr, w) {
			t.Errorf("build output lacks %q:\n%s\n%s", w, b.stdout, b.stderr)
		}
	}
}
