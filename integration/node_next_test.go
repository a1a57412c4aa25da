package integration

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// nextSizeLimit is the bound on the Next.js hello-world image, compressed.
const nextSizeLimit = 60_000_000

// TestNodeNext builds the Next.js 15 hello-world (next build, next start, no next.config) into an
// image that runs the framework's standalone server, checks its page, its static files and
// public/, its size and that the full node_modules (the compiler, @next/swc-*) stays out; then
// rebuilds after a page change on the reused node_modules and the saved .next/cache.
func TestNodeNext(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	cache := filepath.Join(t.TempDir(), "cache")
	app := copyApp(t, "integration/testdata/node-next")
	out := filepath.Join(t.TempDir(), "image")
	start := time.Now()
	first := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
	logBuild(t, start, first)
	checkLog(t, first, "Next.js: building with standalone output (NEXT_PRIVATE_STANDALONE=true", "in place of the production node_modules")
	if first.report.Total.Compressed > nextSizeLimit {
		t.Errorf("Next.js image: %d bytes compressed > %d", first.report.Total.Compressed, nextSizeLimit)
	}
	checkNextImage(t, out, "hello from distill/node next.js")

	page := filepath.Join(app, "app", "page.js")
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, []byte(strings.Replace(string(src), "hello from", "hello again from", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	second := distill(t, app, "-o", "oci:"+out, "--cache-dir", cache).must(t)
	t.Logf("rebuild after a one-line change: %.1fs", time.Since(start).Seconds())
	for _, w := range []string{"Reusing node_modules", "Next.js: restored .next/cache from the previous build"} {
		if !strings.Contains(second.stdout+second.stderr, w) {
			t.Errorf("the rebuild's output lacks %q:\n%s", w, second.stdout)
		}
	}
	checkNextImage(t, out, "hello again from distill/node next.js")
}

// checkNextImage runs the image and checks the page, a static chunk, public/ and the files.
func checkNextImage(t *testing.T, out, body string) {
	t.Helper()
	ref := harness.LoadOCI(t, out)
	c := harness.Run(t, ref)
	status, got := c.WaitHTTP(t, "/")
	if status != 200 || !strings.Contains(got, body) || !strings.Contains(got, "the server") {
		t.Fatalf("GET / = %d %q, want %q rendered on the server", status, got, body)
	}
	chunk := regexp.MustCompile(`/_next/static/[^"]+\.js`).FindString(got)
	if chunk == "" {
		t.Errorf("the page names no /_next/static script: %s", got)
	}
	for path, want := range map[string]string{chunk: "", "/hello.txt": "hello from public/"} {
		if status, text := httpGet(t, c.URL+path); status != 200 || !strings.Contains(text, want) {
			t.Errorf("GET %s = %d, want 200 with %q", path, status, want)
		}
	}
	cfg := harness.ImageConfig(t, ref)
	if ep := strings.Join(cfg.Entrypoint, " "); !strings.HasPrefix(ep, "/layers/distill_node/node-runtime/bin/node /layers/distill_node/next-standalone/server.js") {
		t.Errorf("entrypoint %q, want node running the standalone server.js", ep)
	}
	if cfg.Getenv("HOSTNAME") != "0.0.0.0" {
		t.Errorf("HOSTNAME = %q, want 0.0.0.0", cfg.Getenv("HOSTNAME"))
	}
	harness.CheckELFDeps(t, out)
	for p := range harness.Entries(t, out) {
		switch {
		case strings.Contains(p, "/@next/swc-"), strings.Contains(p, "linuxmusl"), strings.Contains(p, "-musl/"):
			t.Errorf("image holds a build-time or wrong-libc package: %s", p)
		case strings.HasPrefix(p, "/layers/distill_node/node-modules/"):
			t.Errorf("image holds the full production node_modules: %s", p)
		case strings.HasPrefix(p, "/workspace/.next/"):
			t.Errorf("image holds the build's .next (in the standalone layer already): %s", p)
		}
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// exportSizeLimit bounds the static export image, compressed: the run image, the static server
// and the exported files, no Node.js.
const exportSizeLimit = 10_000_000

// TestNodeNextExport builds the hello-world with output: 'export', a second page and `next start`
// (which does not serve an export) into an image of the exported files and distill's static
// server: it serves /, the second page by its clean URL, a static chunk, public/ and the export's
// 404 page with status 404, and holds no node binary and no shell.
func TestNodeNextExport(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	app := copyApp(t, "integration/testdata/node-next")
	if err := os.WriteFile(filepath.Join(app, "next.config.js"), []byte("module.exports = { output: 'export' };\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(app, "app", "page.js")
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	static := strings.Replace(string(src), `export const dynamic = "force-dynamic";`, "", 1)
	if err := os.WriteFile(page, []byte(static), 0o644); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(app, "app", "second", "page.js")
	if err := os.MkdirAll(filepath.Dir(second), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, []byte("export default function Second() {\n  return <p>the second page, exported</p>;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "image")
	b := distill(t, app, "-o", "oci:"+out, "--cache-dir", filepath.Join(t.TempDir(), "cache")).must(t)
	t.Logf("%d bytes compressed\n%s", b.report.Total.Compressed, reportTable(b.stdout))
	checkLog(t, b, "distill's static server replaces it")
	if b.report.Total.Compressed > exportSizeLimit {
		t.Errorf("static export image: %d bytes compressed > %d", b.report.Total.Compressed, exportSizeLimit)
	}
	ref := harness.LoadOCI(t, out)
	c := harness.Run(t, ref)
	status, home := c.WaitHTTP(t, "/")
	if status != 200 || !strings.Contains(home, "hello from distill/node next.js") {
		t.Fatalf("GET / = %d %q, want the exported page", status, home)
	}
	chunk := regexp.MustCompile(`/_next/static/[^"]+\.js`).FindString(home)
	if chunk == "" {
		t.Errorf("the page names no /_next/static script: %s", home)
	}
	for path, want := range map[string]string{"/second": "the second page, exported", chunk: "", "/hello.txt": "hello from public/"} {
		if status, text := httpGet(t, c.URL+path); status != 200 || !strings.Contains(text, want) {
			t.Errorf("GET %s = %d, want 200 with %q", path, status, want)
		}
	}
	if status, text := httpGet(t, c.URL+"/no-such-page"); status != 404 || !strings.Contains(text, "could not be found") {
		t.Errorf("GET /no-such-page = %d %q, want 404 with the export's 404.html", status, text)
	}
	cfg := harness.ImageConfig(t, ref)
	if ep := strings.Join(cfg.Entrypoint, " "); ep != "/layers/distill_node/static-server/bin/static-server /workspace" {
		t.Errorf("entrypoint %q, want the static server on /workspace", ep)
	}
	for p, e := range harness.Entries(t, out) {
		base := filepath.Base(p)
		switch {
		case base == "node" && !e.IsDir():
			t.Errorf("image holds a node binary: %s", p)
		case base == "sh" || base == "bash" || base == "dash":
			t.Errorf("image holds a shell: %s", p)
		case strings.HasPrefix(p, "/layers/distill_node/") && !strings.HasPrefix(p, "/layers/distill_node/static-server"):
			t.Errorf("image holds a Node.js layer: %s", p)
		case strings.HasPrefix(p, "/workspace/node_modules"), strings.HasPrefix(p, "/workspace/.next"), p == "/workspace/package.json", strings.HasPrefix(p, "/workspace/app/"):
			t.Errorf("image holds the app's source or build: %s", p)
		}
	}
}
