package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
		"data.bin":               "bin",
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

func TestResolve(t *testing.T) {
	s := newTestSite(t)
	tests := []struct {
		target   string
		status   int
		file     string // relative to the root, for 200
		location string // for 308
	}{
		{"/", 200, "index.html", ""},
		{"/?x=1", 200, "index.html", ""},
		{"/index.html", 200, "index.html", ""},
		{"/about", 200, "about.html", ""},
		{"/about.html", 200, "about.html", ""},
		{"/about/", 308, "", "/about"},
		{"/blog", 200, "blog.html", ""},
		{"/blog/post", 200, "blog/post.html", ""},
		{"/docs", 308, "", "/docs/"},
		{"/docs?x=1", 308, "", "/docs/?x=1"},
		{"/docs/", 200, "docs/index.html", ""},
		{"//docs", 308, "", "/docs/"}, // never a protocol-relative Location
		{"/./about", 200, "about.html", ""},
		{"/a%20b", 200, "a b.html", ""},
		{"/_next/static/chunk.js", 200, "_next/static/chunk.js", ""},
		{"http://example.test/about", 200, "about.html", ""},
		{"/alias", 200, "about.html", ""},
		{"/missing", 404, "", ""},
		{"/_next", 404, "", ""},  // a directory without index.html: no listing
		{"/_next/", 404, "", ""}, // the same
		{"/about.html/", 404, "", ""},
		{"/escape", 404, "", ""}, // a link out of the site
		{"/escape.html", 404, "", ""},
		{"/../secret.html", 400, "", ""},
		{"/%2e%2e/secret.html", 400, "", ""},
		{"/docs/%2E%2E/%2e%2e/secret.html", 400, "", ""},
		{"/docs/..", 400, "", ""},
		{"/%zz", 400, "", ""},
		{"/about%00.html", 400, "", ""},
		{"about", 400, "", ""},
	}
	for _, tt := range tests {
		got := s.resolve(tt.target)
		want := resolution{status: tt.status, location: tt.location}
		if tt.file != "" {
			want.file = filepath.Join(s.root, tt.file)
		}
		if got != want {
			t.Errorf("resolve(%q) = %+v, want %+v", tt.target, got, want)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := map[string]string{
		"index.html":    "text/html; charset=utf-8",
		"a/chunk.js":    "text/javascript; charset=utf-8",
		"style.CSS":     "text/css; charset=utf-8",
		"index.txt":     "text/plain; charset=utf-8",
		"logo.svg":      "image/svg+xml",
		"font.woff2":    "font/woff2",
		"app.wasm":      "application/wasm",
		"manifest.json": "application/json",
		"data.bin":      "application/octet-stream",
		"noext":         "application/octet-stream",
	}
	for name, want := range tests {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestServe answers real requests over TCP: pages, clean URLs, the 404
// page with status 404, HEAD, a refused method and an escape, on one
// kept-alive connection where HTTP allows.
func TestServe(t *testing.T) {
	s := newTestSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.serve(ln); close(done) }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path string
		status       int
		ctype, body  string
		header       [2]string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "home", [2]string{}},
		{"GET", "/about", 200, "text/html; charset=utf-8", "about", [2]string{}},
		{"GET", "/_next/static/chunk.js", 200, "text/javascript; charset=utf-8", "js", [2]string{}},
		{"GET", "/_next/static/style.CSS", 200, "text/css; charset=utf-8", "css", [2]string{}},
		{"GET", "/logo.png", 200, "image/png", "png", [2]string{}},
		{"GET", "/nope", 404, "text/html; charset=utf-8", "not here", [2]string{}},
		{"GET", "/_next/", 404, "text/html; charset=utf-8", "not here", [2]string{}},
		{"GET", "/docs", 308, "text/plain; charset=utf-8", "308 permanent redirect to /docs/\n", [2]string{"Location", "/docs/"}},
		{"HEAD", "/about", 200, "text/html; charset=utf-8", "", [2]string{"Content-Length", "5"}},
		{"POST", "/about", 405, "text/plain; charset=utf-8", "405 method not allowed\n", [2]string{"Allow", "GET, HEAD"}},
		{"GET", "/%2e%2e/secret.html", 400, "text/plain; charset=utf-8", "400 Bad Request\n", [2]string{}},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, base+tt.path, nil)
		if err != nil {
			t.Fatal(err)
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
	ln.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the listener closed")
	}
}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name, in  string
		status    int
		keepAlive bool
	}{
		{"HTTP/1.1", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, true},
		{"HTTP/1.1 close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0, false},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", 0, false},
		{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, true},
		{"a body", "GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 0, false},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\n", 400, false},
		{"no version", "GET /\r\n\r\n", 400, false},
		{"bad header", "GET / HTTP/1.1\r\nnocolon\r\n\r\n", 400, false},
		{"too long", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHeader) + "\r\n\r\n", 431, false},
		{"nothing", "", -1, false},
	}
	for _, tt := range tests {
		req, status := readRequest(newReader(tt.in))
		if status != tt.status || (status == 0 && req.keepAlive != tt.keepAlive) {
			t.Errorf("%s: status %d keepAlive %v, want %d %v", tt.name, status, req.keepAlive, tt.status, tt.keepAlive)
		}
	}
}

func newReader(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 4096) }
