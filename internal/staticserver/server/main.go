// Command static-server serves one directory of static files over HTTP/1.1:
// `static-server DIR` listens on :$PORT (PORT default 8080). It is compiled
// at build time from this single file (internal/staticserver) and uses the
// net, os and syscall layers of the standard library, not net/http, to stay a
// small static binary. A request path resolves, in order, to the file itself,
// to <path>.html (clean URLs, the shape of a Next.js export with
// trailingSlash false), or, for a directory, to its index.html (redirected to
// <path>/ first, so relative links resolve); a miss answers 404 with DIR's
// 404.html when there is one. There is no directory listing; paths with ".."
// segments, NUL bytes or bad escapes get 400, and symbolic links that lead
// out of DIR are treated as missing. GET and HEAD only (405 otherwise). On
// SIGTERM or SIGINT it stops accepting, lets requests in flight finish (up to
// 10 s) and exits 0: it runs as PID 1.
package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	maxHeader   = 16 << 10         // bytes of request line and headers
	idleTimeout = 60 * time.Second // between requests on one connection
	ioTimeout   = 60 * time.Second // to read a request, and to write a response
	drainTime   = 10 * time.Second // for requests in flight after SIGTERM
)

func main() {
	if len(os.Args) != 2 {
		fail("usage: static-server DIR (serves DIR on :$PORT, default 8080)")
	}
	s, err := newSite(os.Args[1])
	if err != nil {
		fail("static-server: " + err.Error())
	}
	port := "8080"
	if p, ok := syscall.Getenv("PORT"); ok && p != "" {
		port = p
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fail("static-server: " + err.Error())
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-stop
		os.Stdout.WriteString("static-server: " + sig.String() + ", stopping\n")
		ln.Close()
	}()
	os.Stdout.WriteString("static-server: serving " + s.root + " on :" + port + "\n")
	s.serve(ln)
	deadline := time.Now().Add(drainTime)
	for s.active.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

func fail(msg string) {
	os.Stderr.WriteString(msg + "\n")
	os.Exit(1)
}

// site is the directory served.
type site struct {
	root   string // absolute, symbolic links resolved
	active atomic.Int32
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

// serve accepts connections until ln is closed.
func (s *site) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil { // out of file descriptors, a connection reset before accept: keep serving
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go s.conn(c)
	}
}

// conn answers the requests of one connection, keeping it open while the
// client allows (HTTP/1.1 by default, HTTP/1.0 with keep-alive).
func (s *site) conn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 4096)
	for first := true; ; first = false {
		timeout := ioTimeout
		if !first {
			timeout = idleTimeout
		}
		c.SetReadDeadline(time.Now().Add(timeout))
		req, status := readRequest(r)
		if status == -1 {
			return // closed, timed out or empty
		}
		s.active.Add(1)
		c.SetWriteDeadline(time.Now().Add(ioTimeout))
		keep := status == 0 && req.keepAlive
		var err error
		if status != 0 {
			err = writeError(c, status, req.method == "HEAD")
		} else {
			err = s.respond(c, req, keep)
		}
		s.active.Add(-1)
		if err != nil || !keep {
			return
		}
	}
}

// request is what the server reads of a request.
type request struct {
	method, target string
	keepAlive      bool
}

// readRequest reads the request line and headers. status is 0 for a request
// to answer, an HTTP error status for a malformed one, -1 when there is none.
func readRequest(r *bufio.Reader) (request, int) {
	var req request
	n := 0
	line, err := readLine(r, &n)
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) || errors.Is(err, errTooLong) {
			return req, 431
		}
		return req, -1
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return req, 400
	}
	req.method, req.target = parts[0], parts[1]
	req.keepAlive = parts[2] != "HTTP/1.0"
	hasBody := false
	for {
		h, err := readLine(r, &n)
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) || errors.Is(err, errTooLong) {
				return req, 431
			}
			return req, -1
		}
		if h == "" {
			break
		}
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return req, 400
		}
		value = strings.ToLower(strings.TrimSpace(value))
		switch strings.ToLower(name) {
		case "connection":
			if value == "close" {
				req.keepAlive = false
			} else if value == "keep-alive" {
				req.keepAlive = true
			}
		case "content-length":
			hasBody = hasBody || value != "0"
		case "transfer-encoding":
			hasBody = true
		}
	}
	if hasBody { // a body is not read: the connection cannot carry another request
		req.keepAlive = false
	}
	return req, 0
}

var errTooLong = errors.New("request header too long")

// readLine reads one CRLF- or LF-terminated line, counting into n.
func readLine(r *bufio.Reader, n *int) (string, error) {
	b, err := r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	if *n += len(b); *n > maxHeader {
		return "", errTooLong
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// respond answers one well-formed request.
func (s *site) respond(w io.Writer, req request, keep bool) error {
	head := req.method == "HEAD"
	if req.method != "GET" && !head {
		return writeResponse(w, 405, "text/plain; charset=utf-8", "Allow: GET, HEAD\r\n", false, int64(len("405 method not allowed\n")), strings.NewReader("405 method not allowed\n"))
	}
	res := s.resolve(req.target)
	switch res.status {
	case 200:
		return s.sendFile(w, 200, res.file, keep, head)
	case 308:
		body := "308 permanent redirect to " + res.location + "\n"
		return writeResponse(w, 308, "text/plain; charset=utf-8", "Location: "+res.location+"\r\n", keep, int64(len(body)), bodyFor(head, body))
	case 404:
		if nf, ok := s.file("404.html"); ok {
			return s.sendFile(w, 404, nf, keep, head)
		}
	}
	return writeError(w, res.status, head)
}

func bodyFor(head bool, body string) io.Reader {
	if head {
		return nil
	}
	return strings.NewReader(body)
}

// writeError answers status with a one-line text body and closes.
func writeError(w io.Writer, status int, head bool) error {
	body := strconv.Itoa(status) + " " + reason(status) + "\n"
	return writeResponse(w, status, "text/plain; charset=utf-8", "", false, int64(len(body)), bodyFor(head, body))
}

// sendFile answers with the file at abs.
func (s *site) sendFile(w io.Writer, status int, abs string, keep, head bool) error {
	f, err := os.Open(abs)
	if err != nil {
		return writeError(w, 404, head)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return writeError(w, 404, head)
	}
	var body io.Reader = f
	if head {
		body = nil
	}
	return writeResponse(w, status, contentType(abs), "", keep, fi.Size(), body)
}

// writeResponse writes the status line, headers and body (nil for HEAD).
func writeResponse(w io.Writer, status int, ctype, extra string, keep bool, size int64, body io.Reader) error {
	var h strings.Builder
	h.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + reason(status) + "\r\n")
	h.WriteString("Date: " + time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") + "\r\n")
	h.WriteString("Content-Type: " + ctype + "\r\nContent-Length: " + strconv.FormatInt(size, 10) + "\r\n")
	h.WriteString("X-Content-Type-Options: nosniff\r\n" + extra)
	if !keep {
		h.WriteString("Connection: close\r\n")
	}
	h.WriteString("\r\n")
	if _, err := io.WriteString(w, h.String()); err != nil {
		return err
	}
	if body == nil {
		return nil
	}
	_, err := io.Copy(w, body) // sendfile(2) from a file to a TCP connection
	return err
}

func reason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 431:
		return "Request Header Fields Too Large"
	}
	return "Error"
}

// resolution is where a request target leads: a file (200), a redirect
// (308, to location) or an error status.
type resolution struct {
	status   int
	file     string
	location string
}

// resolve maps a request target ("/docs/a?x=1", or absolute-form) to a file.
func (s *site) resolve(target string) resolution {
	if i := strings.Index(target, "://"); i > 0 && !strings.Contains(target[:i], "/") {
		rest := target[i+3:]
		j := strings.IndexAny(rest, "/?")
		if j < 0 {
			target = "/"
		} else {
			target = "/" + strings.TrimPrefix(rest[j:], "/")
		}
	}
	raw, query, hasQuery := strings.Cut(target, "?")
	if !strings.HasPrefix(raw, "/") {
		return resolution{status: 400}
	}
	p, ok := unescape(raw)
	if !ok || strings.ContainsRune(p, 0) {
		return resolution{status: 400}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return resolution{status: 400}
		}
	}
	clean := path.Clean(p)
	rel := strings.TrimPrefix(clean, "/")
	if clean == "/" || strings.HasSuffix(p, "/") {
		if f, ok := s.file(path.Join(rel, "index.html")); ok {
			return resolution{status: 200, file: f}
		}
		if _, ok := s.file(rel + ".html"); ok && rel != "" {
			return resolution{status: 308, location: withQuery(escape(clean), query, hasQuery)}
		}
		return resolution{status: 404}
	}
	if f, ok := s.file(rel); ok {
		return resolution{status: 200, file: f}
	}
	if f, ok := s.file(rel + ".html"); ok {
		return resolution{status: 200, file: f}
	}
	if _, ok := s.file(path.Join(rel, "index.html")); ok {
		return resolution{status: 308, location: withQuery(escape(clean)+"/", query, hasQuery)}
	}
	return resolution{status: 404}
}

func withQuery(p, query string, has bool) string {
	if has {
		return p + "?" + query
	}
	return p
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

// unescape decodes %XX escapes (RFC 3986 percent-encoding); false for a
// malformed escape.
func unescape(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// escape percent-encodes a clean path for a Location header: RFC 3986
// unreserved characters, sub-delims, ':', '@' and '/' stay as they are.
func escape(p string) string {
	const keep = "-._~!$&'()*+,;=:@/"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)+strconv.FormatUint(uint64(c)&15, 16)))
	}
	return b.String()
}

// contentTypes maps file extensions to media types (IANA's media type
// registry; text/javascript as RFC 9239 names it; .txt is what a Next.js
// export's React Server Components payloads use).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".json": "application/json", ".map": "application/json", ".webmanifest": "application/manifest+json",
	".txt": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon", ".bmp": "image/bmp",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".eot": "application/vnd.ms-fontobject", ".wasm": "application/wasm", ".pdf": "application/pdf",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".wav": "audio/wav",
	".zip": "application/zip", ".gz": "application/gzip",
}

// contentType is the media type for a file name, application/octet-stream
// when the extension is not known.
func contentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
