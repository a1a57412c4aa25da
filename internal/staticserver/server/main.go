// Command static-server serves one directory of static files over HTTP:
// `static-server DIR` listens on :$PORT (PORT default 8080). It is compiled
// at build time from this single file (internal/staticserver); the HTTP is
// the standard library's net/http, which answers Range, HEAD and conditional
// requests (Last-Modified, If-Modified-Since) as browsers and CDNs expect.
//
// A request path resolves, in order, to the file itself, to <path>.html
// (clean URLs, the shape of a Next.js export with trailingSlash false), or,
// for a directory, to its index.html (redirected to <path>/ first, so
// relative links resolve); a miss answers 404 with DIR's 404.html when there
// is one. There is no directory listing; paths with ".." segments or NUL
// bytes get 400, and symbolic links that lead out of DIR are treated as
// missing. GET and HEAD only (405 otherwise). On SIGTERM or SIGINT it stops
// accepting, lets requests in flight finish (up to 10 s) and exits 0: it runs
// as PID 1.
package main

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

const drainTime = 10 * time.Second // for requests in flight after SIGTERM

// extraTypes are media types of files a static export carries that Go's
// built-in table (mime.TypeByExtension without /etc/mime.types, as in a run
// image) lacks: .txt is what a Next.js export's React Server Components
// payloads use.
var extraTypes = map[string]string{
	".txt": "text/plain; charset=utf-8", ".map": "application/json", ".webmanifest": "application/manifest+json",
	".ico": "image/x-icon", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".csv": "text/csv; charset=utf-8", ".md": "text/markdown; charset=utf-8", ".rss": "application/rss+xml",
	".atom": "application/atom+xml", ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg",
}

// registerTypes adds extraTypes that the mime package does not know.
func registerTypes() {
	for ext, t := range extraTypes {
		if mime.TypeByExtension(ext) == "" {
			_ = mime.AddExtensionType(ext, t)
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: static-server DIR (serves DIR on :$PORT, default 8080)")
	}
	s, err := newSite(os.Args[1])
	if err != nil {
		fail("static-server: " + err.Error())
	}
	registerTypes()
	port := "8080"
	if p := os.Getenv("PORT"); p != "" {
		port = p
	}
	srv := &http.Server{Addr: ":" + port, Handler: s, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		os.Stdout.WriteString("static-server: stopping\n")
		drain, cancel := context.WithTimeout(context.Background(), drainTime)
		defer cancel()
		_ = srv.Shutdown(drain)
	}()
	os.Stdout.WriteString("static-server: serving " + s.root + " on :" + port + "\n")
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fail("static-server: " + err.Error())
	}
	<-stopped
}

func fail(msg string) {
	os.Stderr.WriteString(msg + "\n")
	os.Exit(1)
}

// site is the directory served.
type site struct {
	root string // absolute, symbolic links resolved
}

func newSite(dir string) (*site, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &os.PathError{Op: "serve", Path: root, Err: syscall.ENOTDIR}
	}
	return &site{root: root}, nil
}

// ServeHTTP answers one request: the resolved file, a redirect, the 404
// page, or an error status.
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	res := s.resolve(r.URL.Path)
	switch res.status {
	case http.StatusOK:
		s.serveFile(w, r, res.file)
	case http.StatusPermanentRedirect:
		loc := (&url.URL{Path: res.location}).EscapedPath()
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		http.Error(w, "308 permanent redirect to "+loc, res.status)
	case http.StatusNotFound:
		s.notFound(w, r)
	default:
		http.Error(w, "400 bad request", res.status)
	}
}

// serveFile sends file through http.ServeContent (Range, conditional
// requests, HEAD); its media type comes from its extension, else from its
// first bytes.
func (s *site) serveFile(w http.ResponseWriter, r *http.Request, file string) {
	f, err := os.Open(file)
	if err != nil {
		s.notFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.notFound(w, r)
		return
	}
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(file))); t != "" {
		w.Header().Set("Content-Type", t)
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// notFound answers 404 with the site's 404.html, or a line of text when it
// has none.
func (s *site) notFound(w http.ResponseWriter, r *http.Request) {
	page, ok := s.file("404.html")
	f, err := os.Open(page)
	if !ok || err != nil {
		http.Error(w, "404 not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, f)
	}
}

// resolution is where a request path leads: a file (200), a redirect (308,
// to location, a clean path) or an error status.
type resolution struct {
	status   int
	file     string
	location string
}

// resolve maps a request's decoded path ("/docs/a") to a file.
func (s *site) resolve(p string) resolution {
	if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) || slices.Contains(strings.Split(p, "/"), "..") {
		return resolution{status: http.StatusBadRequest}
	}
	clean := path.Clean(p)
	rel := strings.TrimPrefix(clean, "/")
	if clean == "/" || strings.HasSuffix(p, "/") {
		if f, ok := s.file(path.Join(rel, "index.html")); ok {
			return resolution{status: http.StatusOK, file: f}
		}
		if _, ok := s.file(rel + ".html"); ok && rel != "" {
			return resolution{status: http.StatusPermanentRedirect, location: clean}
		}
		return resolution{status: http.StatusNotFound}
	}
	if f, ok := s.file(rel); ok {
		return resolution{status: http.StatusOK, file: f}
	}
	if f, ok := s.file(rel + ".html"); ok {
		return resolution{status: http.StatusOK, file: f}
	}
	if _, ok := s.file(path.Join(rel, "index.html")); ok {
		return resolution{status: http.StatusPermanentRedirect, location: clean + "/"}
	}
	return resolution{status: http.StatusNotFound}
}

// file returns the absolute path of the regular file rel (slash separated,
// clean, relative to the root) when it exists inside the root, symbolic
// links followed.
func (s *site) file(rel string) (string, bool) {
	real, err := filepath.EvalSymlinks(filepath.Join(s.root, filepath.FromSlash(rel)))
	if err != nil || (real != s.root && !strings.HasPrefix(real, s.root+string(filepath.Separator))) {
		return "", false
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	return real, true
}
