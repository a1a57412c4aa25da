package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/distill-build/distill/internal/testenv"
)

// newTestSite writes a site shaped like a Next.js export (trailingSlash
// false) with a directory index, a 404 page and a link out of the site.
func newTestSite(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "site")
	testenv.WriteFiles(t, root, map[string]string{
		"index.html":             "home",
		"about.html":             "about",
		"blog.html":              "blog",
		"blog/post.html":         "post",
		"docs/index.html":        "docs",
		"a b.html":               "spaced",
		"_next/static/chunk.js":  "js",
		"_next/static/style.CSS": "css",
		"index.txt":              "rsc",
		"logo.png":               "png",
		"LICENSE":                "bin",
		"font.woff2":             "woff2",
		"404.html":               "not here",
	})
	testenv.WriteFile(t, filepath.Join(dir, "secret.html"), "secret")
	if err := os.Symlink(filepath.Join(dir, "secret.html"), filepath.Join(root, "escape.html")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("about.html", filepath.Join(root, "alias.html")); err != nil {
		t.Fatal(err)
	}
	s, err := newSite(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestResolve maps decoded request paths (net/http has unescaped them) to
// files, redirects and statuses.
func TestResolve(t *testing.T) {
	s := newTestSite(t)
	tests := []struct {
		path     string
		status   int
		file     string // relative to the root, for 200
		location string // for 308
	}{
		{"/", 200, "index.html", ""},
		{"/index.html", 200, "index.html", ""},
		{"/about", 200, "about.html", ""},
		{"/about.html", 200, "about.html", ""},
		{"/about/", 308, "", "/about"},
		{"/blog", 200, "blog.html", ""},
		{"/blog/post", 200, "blog/post.html", ""},
		{"/docs", 308, "", "/docs/"},
		{"/docs/", 200, "docs/index.html", ""},
		{"//docs", 308, "", "/docs/"}, // never a protocol-relative Location
		{"/./about", 200, "about.html", ""},
		{"/a b", 200, "a b.html", ""},
		{"/_next/static/chunk.js", 200, "_next/static/chunk.js", ""},
		{"/alias", 200, "about.html", ""},
		{"/missing", 404, "", ""},
		{"/_next", 404, "", ""},  // a directory without index.html: no listing
		{"/_next/", 404, "", ""}, // the same
		{"/about.html/", 404, "", ""},
		{"/escape", 404, "", ""}, // a link out of the site
		{"/escape.html", 404, "", ""},
		{"/../secret.html", 400, "", ""},
		{"/docs/../../secret.html", 400, "", ""},
		{"/docs/..", 400, "", ""},
		{"/about\x00.html", 400, "", ""},
		{"about", 400, "", ""},
	}
	for _, tt := range tests {
		got := s.resolve(tt.path)
		want := resolution{status: tt.status, location: tt.location}
		if tt.file != "" {
			want.file = filepath.Join(s.root, tt.file)
		}
		if got != want {
			t.Errorf("resolve(%q) = %+v, want %+v", tt.path, got, want)
		}
	}
}

// TestServe answers real requests over TCP through net/http: pages, clean
// URLs, media types (Go's table and extraTypes, as in a run image without
// /etc/mime.types), the 404 page with status 404, HEAD, ranges, conditional
// requests, a refused method and an escape.
func TestServe(t *testing.T) {
	registerTypes()
	s := newTestSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	later := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		method, path string
		reqHeader    [2]string
		status       int
		ctype, body  string
		header       [2]string
	}{
		{"GET", "/", [2]string{}, 200, "text/html; charset=utf-8", "home", [2]string{}},
		{"GET", "/about", [2]string{}, 200, "text/html; charset=utf-8", "about", [2]string{}},
		{"GET", "/_next/static/chunk.js", [2]string{}, 200, "text/javascript; charset=utf-8", "js", [2]string{}},
		{"GET", "/_next/static/style.CSS", [2]string{}, 200, "text/css; charset=utf-8", "css", [2]string{}},
		{"GET", "/index.txt", [2]string{}, 200, "text/plain; charset=utf-8", "rsc", [2]string{}},
		{"GET", "/logo.png", [2]string{}, 200, "image/png", "png", [2]string{}},
		{"GET", "/font.woff2", [2]string{}, 200, "font/woff2", "woff2", [2]string{}},
		{"GET", "/LICENSE", [2]string{}, 200, "text/plain; charset=utf-8", "bin", [2]string{}}, // no extension: sniffed
		{"GET", "/nope", [2]string{}, 404, "text/html; charset=utf-8", "not here", [2]string{}},
		{"GET", "/_next/", [2]string{}, 404, "text/html; charset=utf-8", "not here", [2]string{}},
		{"GET", "/docs", [2]string{}, 308, "text/plain; charset=utf-8", "308 permanent redirect to /docs/\n", [2]string{"Location", "/docs/"}},
		{"GET", "/docs?x=1", [2]string{}, 308, "text/plain; charset=utf-8", "308 permanent redirect to /docs/?x=1\n", [2]string{"Location", "/docs/?x=1"}},
		{"GET", "/a%20b", [2]string{}, 200, "text/html; charset=utf-8", "spaced", [2]string{}},
		{"HEAD", "/about", [2]string{}, 200, "text/html; charset=utf-8", "", [2]string{"Content-Length", "5"}},
		{"GET", "/about", [2]string{"Range", "bytes=1-2"}, 206, "text/html; charset=utf-8", "bo", [2]string{"Content-Range", "bytes 1-2/5"}},
		{"GET", "/about", [2]string{"If-Modified-Since", later}, 304, "", "", [2]string{}},
		{"POST", "/about", [2]string{}, 405, "text/plain; charset=utf-8", "405 method not allowed\n", [2]string{"Allow", "GET, HEAD"}},
		{"GET", "/%2e%2e/secret.html", [2]string{}, 400, "text/plain; charset=utf-8", "400 bad request\n", [2]string{}},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, base+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.reqHeader[0] != "" {
			req.Header.Set(tt.reqHeader[0], tt.reqHeader[1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.ctype || string(body) != tt.body {
			t.Errorf("%s %s = %d %q %q, want %d %q %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.status, tt.ctype, tt.body)
		}
		if tt.header[0] != "" && resp.Header.Get(tt.header[0]) != tt.header[1] {
			t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, tt.header[0], resp.Header.Get(tt.header[0]), tt.header[1])
		}
	}
	// A malformed escape never reaches the site: net/http answers 400.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET /%%zz = %d, want 400", resp.StatusCode)
	}
}
