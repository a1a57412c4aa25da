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
	env     []string          // NAME=value build settings (distill build --env)
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
	{name: "npm-workspaces-case", app: sharedCase("node-npm-workspaces"),
		fx:      nodeFixture{body: "node-npm-workspaces OK", process: "apps/web/server.js"},
		logWant: []string{"The app is workspace apps/web (@demo/web): the root start command runs apps/web/server.js", "workspace link(s) point into the app"}},
	{name: "berry-pnp-case", app: sharedCase("node-yarn-berry-pnp"),
		fx:      nodeFixture{body: "node-yarn-berry-pnp OK: ms resolved (60000), build output present", devDep: "uglify-js", process: ".pnp.cjs"},
		logWant: []string{"@yarnpkg/cli-dist 3.2.2", "nodeLinker pnp (Plug'n'Play)", "has no `workspaces focus`", "production zip(s) in the node-modules layer"}},
	{name: "local-packages-only", app: "node-local-packages",
		fx:      nodeFixture{body: "local packages OK: hello file: WORKSPACE", process: "server.js"},
		logWant: []string{"2 link(s) to the app's own packages (file:, workspaces) in the node-modules launch layer"}},
	{name: "npm-workspaces", app: "node-workspaces",
		fx: nodeFixture{body: "npm workspaces api OK (@fx/format from the workspace, ms says 1m=60000) cwd=/workspace/apps/api, build output present", devDep: "left-pad", process: "server.js"},
		logWant: []string{"Starting workspace apps/api (@fx/api): the only workspace with a start script",
			"left out 2 package(s) only other workspaces need (workspaces apps/admin)", "workspace link(s) point into the app", "npm run build (in apps/api)"}},
	{name: "npm-workspaces-setting", app: "node-workspaces", env: []string{"BP_NODE_WORKSPACE=@fx/admin"},
		fx:      nodeFixture{body: "npm workspaces admin OK (007)", devDep: "ms", process: "server.js"},
		logWant: []string{"Starting workspace apps/admin (@fx/admin): BP_NODE_WORKSPACE=@fx/admin"}},
	{name: "npm-workspaces-delegate", app: "node-workspaces", edit: map[string]string{`"workspaces": [`: `"scripts": {"start": "npm start --workspace=@fx/api"}, "workspaces": [`},
		fx:      nodeFixture{body: "npm workspaces api OK (@fx/format from the workspace, ms says 1m=60000) cwd=/workspace/apps/api, build output present", devDep: "left-pad", process: "server.js"},
		logWant: []string{`Starting workspace apps/api (@fx/api): the root start command "npm start --workspace=@fx/api" runs its start script`}},
	{name: "yarn-workspaces", app: "node-yarn-workspaces",
		fx:      nodeFixture{body: "yarn workspaces api OK (@fx/format from the workspace, ms says 1m=60000)", devDep: "left-pad", process: "server.js"},
		logWant: []string{"Starting workspace apps/api (@fx/api)", "workspace link(s) point into the app", "yarn install"}},
	{name: "pnpm-workspaces", app: "node-pnpm-workspaces",
		fx:      nodeFixture{body: "pnpm workspaces api OK (@fx/format from the workspace, ms says 1m=60000) cwd=/workspace/apps/api, build output present", devDep: "left-pad", process: "server.js"},
		logWant: []string{"Starting workspace apps/api (@fx/api): the only workspace with a start script", "left out 1 package(s) only other workspaces need", "pnpm run build (in apps/api)"}},
	{name: "berry4-pnp", app: "node-berry4-pnp",
		fx:      nodeFixture{body: "yarn 4 pnp OK (@fx/greet from the workspace): ms resolved (60000), build output present", devDep: "uglify-js", process: ".pnp.loader.mjs"},
		logWant: []string{"@yarnpkg/cli-dist 4.18.1", "nodeLinker pnp (Plug'n'Play)", "workspaces focus --all --production", "through Plug'n'Play"}},
	{name: "berry4-pnp-bin", app: "node-berry4-pnp", edit: map[string]string{`"start": "node server.mjs"`: `"start": "greet-serve"`},
		fx:      nodeFixture{body: "yarn 4 pnp bin OK (@fx/greet from the workspace)", devDep: "uglify-js", process: "packages/greet/serve.js"},
		logWant: []string{"Plug'n'Play: greet-serve is /workspace/packages/greet/serve.js"}},
	{name: "berry3-node-modules", app: "node-berry3-nm",
		fx:      nodeFixture{body: "yarn 3 node-modules OK: ms resolved (60000), build output present", devDep: "uglify-js", process: "server.js"},
		logWant: []string{"yarn.lock format 6 is written by Yarn 3", "nodeLinker node-modules", "has no `workspaces focus`"}},
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
			args := []string{"-o", "oci:" + out, "--cache-dir", cache}
			for _, kv := range s.env {
				args = append(args, "--env", kv)
			}
			b := distill(t, app, args...).must(t)
			logBuild(t, start, b)
			checkLog(t, b, s.logWant...)
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
