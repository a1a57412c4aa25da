package trace

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/internal/testenv"
)

// TestRun installs the pinned nft with the host's npm and traces a small app with the host's
// node: static requires are followed, a './routes/' + name require globs routes/, a package with a
// require of a variable stays whole with its optional dependencies, and what nothing reaches is
// not in the trace.
func TestRun(t *testing.T) {
	testenv.Slow(t, "installs @vercel/nft with npm and runs it with node")
	node := testenv.NeedCommand(t, "node", "the trace runs with the app's node; tests use the host's")
	npm := testenv.NeedCommand(t, "npm", "nft is installed with npm")
	out, err := exec.Command(node, "-p", "process.versions.node").Output()
	if err != nil {
		t.Fatal(err)
	}
	major, _ := strconv.ParseUint(strings.SplitN(strings.TrimSpace(string(out)), ".", 2)[0], 10, 64)
	pin, ok := PinFor(major)
	if !ok {
		testenv.Unavailable(t, "the host's node %s is older than every nft pin", out)
	}
	nftDir := t.TempDir()
	ctx := context.Background()
	if err := Install(ctx, []string{npm}, os.Environ(), nftDir, pin); err != nil {
		t.Fatal(err)
	}

	app := t.TempDir()
	testenv.WriteFiles(t, app, map[string]string{
		"package.json":                 `{"name":"app","dependencies":{"a":"1","b":"1"}}`,
		"server.js":                    "require('a'); require('b'); require('./routes/' + process.env.R);\n",
		"routes/x.js":                  "require('e');\n",
		"node_modules/a/package.json":  `{"name":"a","main":"index.js"}`,
		"node_modules/a/index.js":      "require('./lib/used');\n",
		"node_modules/a/lib/used.js":   "module.exports = 1;\n",
		"node_modules/a/lib/unused.js": "module.exports = 2;\n",
		"node_modules/b/package.json":  `{"name":"b","dependencies":{"d":"1"},"optionalDependencies":{"f":"1"}}`,
		"node_modules/b/index.js":      "module.exports = (n) => require(n);\n",
		"node_modules/b/extra.js":      "require('d');\n",
		"node_modules/c/package.json":  `{"name":"c"}`,
		"node_modules/c/index.js":      "",
		"node_modules/d/package.json":  `{"name":"d"}`,
		"node_modules/d/index.js":      "",
		"node_modules/e/package.json":  `{"name":"e"}`,
		"node_modules/e/index.js":      "",
		"node_modules/f/package.json":  `{"name":"f"}`,
		"node_modules/f/bin/tool.js":   "",
	})
	res, err := Run(ctx, node, nftDir, os.Environ(), Request{Base: "/", Cwd: app, Entries: []string{filepath.Join(app, "server.js")}}, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range res.Files {
		if rel, ok := Within(app, f); ok {
			got[rel] = true
		}
	}
	for p, want := range map[string]bool{"routes/x.js": true, "node_modules/a/lib/used.js": true, "node_modules/e/index.js": true,
		"node_modules/b/extra.js": true, "node_modules/d/index.js": true, "node_modules/f/bin/tool.js": true, "node_modules/a/lib/unused.js": false, "node_modules/c/index.js": false} {
		if got[p] != want {
			t.Errorf("trace has %s: %v, want %v", p, got[p], want)
		}
	}
	whole := map[string]string{}
	for _, w := range res.Whole {
		whole[filepath.Base(w.Dir)] = w.Why
	}
	if len(whole) != 2 || !regexp.MustCompile(`b/index\.js:1 requires a value`).MatchString(whole["b"]) || !strings.Contains(whole["f"], "an optional dependency of b") {
		t.Errorf("whole packages %+v, want b for its require of a variable and its optional dependency f", res.Whole)
	}
}
