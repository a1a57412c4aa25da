package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// nodeShape is an app in a shape users have (issue 13): how to build it, what it answers and what
// the build must say.
type nodeShape struct {
	name    string
	app     string            // integration/testdata/<app>, or an absolute path
	edit    map[string]string // package.json: old text -> new text
	fx      nodeFixture       // body, devDep that must be absent, entrypoint
	logWant []string          // the build output says these
}

var nodeShapes = []nodeShape{
	{name: "old-node-16.18.1", app: "node-old-engines",
		fx:      nodeFixture{body: "old engines OK on node v16.18.1", process: "launch.js"},
		logWant: []string{"Node.js 16.18.1", "accepts Node.js 16.18.1"}},
	{name: "old-node-12.11.0", app: "node-old-engines", edit: map[string]string{`"node": "16.18.1"`: `"node": "12.11.0"`},
		fx:      nodeFixture{body: "old engines OK on node v12.11.0", process: "launch.js"},
		logWant: []string{"accepts Node.js 12.11.0"}},
	{name: "old-node-14.x", app: "node-old-engines", edit: map[string]string{`"node": "16.18.1"`: `"node": "14.x"`},
		fx: nodeFixture{body: "old engines OK on node v14.", process: "launch.js"}},
	{name: "install-scripts", app: "node-install-scripts",
		fx:      nodeFixture{body: "install scripts OK (compiled by postinstall, NODE_ENV=production)", devDep: "typescript", process: "dist/server.js"},
		logWant: []string{"install scripts of package.json (postinstall)", "no lifecycle scripts"}},
	{name: "prestart", app: "node-prestart",
		fx:      nodeFixture{body: "prestart OK (prestart of node-prestart)", process: "launch.js"},
		logWant: []string{"as npm start runs them"}},
	{name: "prestart-case", app: sharedCase("node-prestart-hook"),
		fx: nodeFixture{body: "node-prestart-hook OK", process: "launch.js"}},
	{name: "start-devdep", app: "node-start-devdep",
		fx:      nodeFixture{body: "start devDependency OK (tsx)", devDep: "typescript", process: "tsx"},
		logWant: []string{"the start command runs tsx from devDependencies", "Keeping tsx in the production node_modules"}},
	{name: "pnpm-prepare", app: "node-pnpm-prepare",
		fx:      nodeFixture{body: "pnpm prepare OK", devDep: "typescript", process: "dist/server.js"},
		logWant: []string{"--config.ignore-scripts=true"}},
	{name: "two-locks", app: "node-two-locks",
		fx:      nodeFixture{body: "two locks OK (ms 2.1.3, 1m)", process: "server.js"},
		logWant: []string{"Using yarn.lock and ignoring package-lock.json", "yarn install"}},
	{name: "two-locks-packageManager", app: "node-two-locks", edit: map[string]string{`"private": true,`: `"private": true, "packageManager": "npm@10.9.2",`},
		fx:      nodeFixture{body: "two locks OK (ms 2.1.3, 1m)", process: "server.js"},
		logWant: []string{"Using package-lock.json and ignoring yarn.lock: packageManager", "npm ci"}},
}

// TestNodeShapes builds each app shape with one shared cache, runs it in podman and checks its
// answer, its files and what the build said. DISTILL_NODE_SHAPES=name,name runs some.
func TestNodeShapes(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	cache := filepath.Join(t.TempDir(), "cache")
	only := os.Getenv("DISTILL_NODE_SHAPES")
	for _, s := range nodeShapes {
		t.Run(s.name, func(t *testing.T) {
			if only != "" && !strings.Contains(","+only+",", ","+s.name+",") {
				t.Skip("not in DISTILL_NODE_SHAPES")
			}
			app := copyShape(t, s)
			out := filepath.Join(t.TempDir(), "image")
			start := time.Now()
			b := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
			t.Logf("build: %.1fs, %d bytes compressed\n%s", time.Since(start).Seconds(), b.report.Total.Compressed, reportTable(b.stdout))
			for _, w := range s.logWant {
				if !strings.Contains(b.stdout+b.stderr, w) {
					t.Errorf("build output lacks %q:\n%s", w, b.stdout)
				}
			}
			checkNodeImage(t, s.fx, out, s.fx.body)
		})
	}
}

// copyShape copies the shape's app into a temporary directory and applies its edits.
func copyShape(t *testing.T, s nodeShape) string {
	t.Helper()
	src := s.app
	if !filepath.IsAbs(src) {
		src = filepath.Join(repoRoot, "integration", "testdata", src)
	}
	if _, err := os.Stat(src); err != nil {
		testenv.Unavailable(t, "app %s: %v", src, err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(s.app))
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v: %s", src, err, out)
	}
	if len(s.edit) == 0 {
		return dst
	}
	p := filepath.Join(dst, "package.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for old, repl := range s.edit {
		if !strings.Contains(text, old) {
			t.Fatalf("%s lacks %q", p, old)
		}
		text = strings.Replace(text, old, repl, 1)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
