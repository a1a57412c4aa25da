package pyindex

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// formatVersion changes whenever the wheels this package writes change, so cached wheels are
// rebuilt.
const formatVersion = "1"

// Set is the Debian packages of one architecture (amd64, arm64) whose distributions become
// wheels.
type Set struct {
	Arch     string
	Packages []string
}

// Ensure returns a directory of wheels for packages of amd64: EnsureSets with that one set.
func Ensure(ctx context.Context, cacheRoot string, packages []string, logf func(string, ...any)) (string, error) {
	return EnsureSets(ctx, cacheRoot, []Set{{Arch: "amd64", Packages: packages}}, logf)
}

// setsKey identifies sets in the cache; one amd64 set keeps the key it had before sets had
// architectures.
func setsKey(sets []Set) string {
	var b strings.Builder
	b.WriteString(formatVersion)
	for _, s := range sets {
		if s.Arch != "amd64" || len(sets) > 1 {
			b.WriteString("\n@" + s.Arch)
		}
		sorted := append([]string(nil), s.Packages...)
		sort.Strings(sorted)
		b.WriteString("\n" + strings.Join(sorted, "\n"))
	}
	h := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(h[:8])
}

// EnsureSets returns one directory of wheels for every set (one index for several
// architectures: their native wheels side by side, pure ones once), building it under
// cacheRoot (e.g. <repo>/.cache/pyindex) on first use and reusing it afterwards.
// DISTILL_APT_MIRROR, when set, is passed to mmdebstrap as its mirror(s) ("|" separated).
func EnsureSets(ctx context.Context, cacheRoot string, sets []Set, logf func(string, ...any)) (string, error) {
	dir := filepath.Join(cacheRoot, setsKey(sets))
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheRoot, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheRoot, ".building-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	var mirrors []string
	if m := os.Getenv("DISTILL_APT_MIRROR"); m != "" {
		for _, s := range strings.FieldsFunc(m, func(r rune) bool { return r == '|' || r == '\n' }) {
			if s = strings.TrimSpace(s); s != "" {
				mirrors = append(mirrors, s)
			}
		}
	}
	var wheels []Wheel
	for _, set := range sets {
		ws, err := Build(ctx, tmp, set.Arch, set.Packages, mirrors, logf)
		if err != nil {
			return "", fmt.Errorf("the %s wheels: %w", set.Arch, err)
		}
		wheels = append(wheels, ws...)
	}
	if len(wheels) == 0 {
		return "", errors.New("pyindex: no wheels built")
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, ".complete")); statErr == nil {
			return dir, nil // another process won the race
		}
		return "", err
	}
	n, _ := filepath.Glob(filepath.Join(dir, "*.whl"))
	logf("pyindex: %d wheels in %s", len(n), dir)
	return dir, nil
}

// Server is a PEP 503 simple index over a directory of wheels, on 127.0.0.1.
type Server struct {
	URL      string // http://127.0.0.1:<port>/simple
	Dir      string
	listener net.Listener
	srv      *http.Server

	mu       chan struct{}
	requests []string
	// accept, when not empty, are the user:password pairs a request must
	// present (basic auth); used counts the requests that presented each.
	accept map[string]int
}

// Serve starts an index for the wheels in dir on a free port of 127.0.0.1 (or addr, when not
// empty). Close stops it.
func Serve(dir, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, listener: l, URL: "http://" + l.Addr().String() + "/simple", mu: make(chan struct{}, 1)}
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(l)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Requests lists the paths requested so far.
func (s *Server) Requests() []string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return append([]string(nil), s.requests...)
}

// projects maps normalised project names to their wheel files.
func (s *Server) projects() (map[string][]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	m := map[string][]string{}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".whl") {
			continue
		}
		name, _, _ := strings.Cut(n, "-")
		m[Normalize(name)] = append(m[Normalize(name)], n)
	}
	return m, nil
}

// RequireBasicAuth makes the index answer 401 to any request that does not
// present one of the user:password pairs, as a private index does.
func (s *Server) RequireBasicAuth(pairs ...string) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	s.accept = map[string]int{}
	for _, p := range pairs {
		s.accept[p] = 0
	}
}

// AuthUses is how many requests presented each pair RequireBasicAuth named.
func (s *Server) AuthUses() map[string]int {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return maps.Clone(s.accept)
}

// authorized records the request and reports whether it may be answered.
func (s *Server) authorized(r *http.Request) bool {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	s.requests = append(s.requests, r.URL.Path)
	if len(s.accept) == 0 {
		return true
	}
	user, password, _ := r.BasicAuth()
	if _, ok := s.accept[user+":"+password]; !ok {
		return false
	}
	s.accept[user+":"+password]++
	return true
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="pyindex"`)
		http.Error(w, "credentials required", http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/simple" || p == "/simple/":
		m, err := s.projects()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!DOCTYPE html>\n<html><body>\n")
		for _, n := range names {
			fmt.Fprintf(w, "<a href=\"/simple/%s/\">%s</a>\n", n, n)
		}
		io.WriteString(w, "</body></html>\n")
	case strings.HasPrefix(p, "/simple/"):
		name := strings.Trim(strings.TrimPrefix(p, "/simple/"), "/")
		if Normalize(name) != name {
			http.Redirect(w, r, "/simple/"+Normalize(name)+"/", http.StatusMovedPermanently)
			return
		}
		m, err := s.projects()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		files, ok := m[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if !strings.HasSuffix(p, "/") {
			http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><body>\n")
		for _, f := range files {
			sum, err := fileSHA256(filepath.Join(s.Dir, f))
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprintf(w, "<a href=\"/files/%s#sha256=%s\">%s</a>\n", html.EscapeString(f), sum, html.EscapeString(f))
		}
		io.WriteString(w, "</body></html>\n")
	case strings.HasPrefix(p, "/files/"):
		f := filepath.Base(p)
		if !strings.HasSuffix(f, ".whl") {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(s.Dir, f))
	default:
		http.NotFound(w, r)
	}
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileSHA256 is the hex sha256 of one file the index serves, by its file name.
func (s *Server) FileSHA256(file string) (string, error) {
	if file != filepath.Base(file) {
		return "", fmt.Errorf("%q is not a file name", file)
	}
	return fileSHA256(filepath.Join(s.Dir, file))
}

// SHA256 is the hex sha256 of the wheel of project name (normalised) at version, for lock files.
func (s *Server) SHA256(name, version string) (string, error) {
	m, err := s.projects()
	if err != nil {
		return "", err
	}
	for _, f := range m[Normalize(name)] {
		parts := strings.Split(f, "-")
		if len(parts) >= 2 && parts[1] == wheelName(version) {
			return fileSHA256(filepath.Join(s.Dir, f))
		}
	}
	return "", fmt.Errorf("no wheel for %s %s in %s", name, version, s.Dir)
}
