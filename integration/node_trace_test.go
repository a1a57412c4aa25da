package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// tracedModules is where the traced node_modules is in an image.
const tracedModules = "/layers/distill_node/node-modules-traced/node_modules/"

// TestNodeTrace builds an Express app that loads routes ('./routes/' + name) and plugins (a
// package named at run time) dynamically: every dynamic module answers over HTTP, so tracing
// dropped nothing the app loads; the image holds the files those modules need and not the test
// files and docs of the packages they use; the log says what tracing removed. Built again with
// BP_NODE_TRACE=false, the image has the full production tree.
func TestNodeTrace(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	cache := filepath.Join(t.TempDir(), "cache")
	app := copyApp(t, "integration/testdata/node-trace-dynamic")
	out := filepath.Join(t.TempDir(), "image")
	start := time.Now()
	b := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
	logBuild(t, start, b)
	checkLog(t, b, "Tracing the files server.js reaches with @vercel/nft", "node_modules: tracing removed",
		"Keeping 4 package(s) whole (camelcase, express, left-pad, ms): server.js:19 requires a value the trace cannot evaluate")
	ref := harness.LoadOCI(t, out)
	c := harness.Run(t, ref)
	if status, got := c.WaitHTTP(t, "/"); status != 200 || !strings.Contains(got, "hello from the traced express app") {
		t.Fatalf("GET / = %d %q", status, got)
	}
	for path, want := range map[string]string{"/hello": "hello route", "/camel": "dynamicRouteAnswer",
		"/plugin/left-pad": "plugin left-pad: ....x", "/plugin/ms": "plugin ms: 2m"} {
		if status, got := httpGet(t, c.URL+path); status != 200 || !strings.Contains(got, want) {
			t.Errorf("GET %s = %d %q, want %q", path, status, got, want)
		}
	}
	files := harness.Entries(t, out)
	for _, p := range []string{"express/lib/router/index.js", "left-pad/index.js", "camelcase/index.js", "ms/index.js", "qs/lib/parse.js", "qs/package.json", "qs/LICENSE.md"} {
		if _, ok := files[tracedModules+p]; !ok {
			t.Errorf("image lacks %s%s", tracedModules, p)
		}
	}
	for p := range files {
		rel, ok := strings.CutPrefix(p, tracedModules)
		switch {
		case strings.HasPrefix(p, "/layers/distill_node/node-modules/"):
			t.Errorf("image holds the untraced production tree: %s", p)
		case !ok, strings.HasPrefix(rel, "express/"), strings.HasPrefix(rel, "ms/"), strings.HasPrefix(rel, "camelcase/"), strings.HasPrefix(rel, "left-pad/"):
			// kept whole: the app requires a package named at run time
		case strings.HasPrefix(rel, "qs/test/") || strings.HasPrefix(rel, "side-channel/test/") || strings.HasSuffix(strings.ToLower(rel), "/readme.md"):
			t.Errorf("image holds a file nothing loads: %s", p)
		}
	}

	full := filepath.Join(t.TempDir(), "full")
	off := distill(t, app, "-o", "oci:"+full, "--cache-dir", cache, "--env", "BP_NODE_TRACE=false").must(t)
	t.Logf("untraced: %d bytes compressed, traced: %d", off.report.Total.Compressed, b.report.Total.Compressed)
	if !strings.Contains(off.stdout+off.stderr, "not traced (BP_NODE_TRACE=false)") {
		t.Errorf("the untraced build does not say so:\n%s", off.stderr)
	}
	if _, ok := harness.Entries(t, full)["/layers/distill_node/node-modules/node_modules/qs/test/parse.js"]; !ok {
		t.Errorf("BP_NODE_TRACE=false: the image lacks qs/test/parse.js of the full production tree")
	}
}

// TestNodeAstro builds an Astro server app (output 'server', the @astrojs/node adapter in
// standalone mode), whose start script runs the built dist/server/entry.mjs: the traced image
// serves its page rendered on the server, without Astro's build tools.
func TestNodeAstro(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	cache := filepath.Join(t.TempDir(), "cache")
	app := copyApp(t, "integration/testdata/node-astro")
	out := filepath.Join(t.TempDir(), "image")
	start := time.Now()
	b := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
	logBuild(t, start, b)
	checkLog(t, b, "Tracing the files dist/server/entry.mjs reaches with @vercel/nft", "node_modules: tracing removed")
	ref := harness.LoadOCI(t, out)
	c := harness.Run(t, ref)
	if status, got := c.WaitHTTP(t, "/"); status != 200 || !strings.Contains(got, "hello from distill/node astro") || !strings.Contains(got, "rendered on the server") {
		t.Fatalf("GET / = %d %q, want the page rendered on the server", status, got)
	}
	files := harness.Entries(t, out)
	if _, ok := files[tracedModules+"@astrojs/node/package.json"]; !ok {
		t.Errorf("image lacks the adapter @astrojs/node in %s", tracedModules)
	}
	for p := range files {
		if strings.HasPrefix(p, "/layers/distill_node/node-modules/") {
			t.Fatalf("image holds the untraced production tree: %s", p)
		}
	}
}
