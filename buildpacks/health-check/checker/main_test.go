package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Path[1:])
		w.WriteHeader(code)
	}))
	defer srv.Close()
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(p)
	for _, tc := range []struct {
		path    string
		healthy bool
	}{{"/200", true}, {"/204", true}, {"/302", true}, {"/404", false}, {"/503", false}} {
		status, err := get(port, tc.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		if healthy(status) != tc.healthy || strconv.Itoa(status) != tc.path[1:] {
			t.Errorf("GET %s: status %d, healthy %v", tc.path, status, healthy(status))
		}
	}
	srv.Close()
	if _, err := get(port, "/"); err == nil {
		t.Error("GET on a closed port: no error")
	}
}

func TestStatusCode(t *testing.T) {
	for _, tc := range []struct {
		line string
		want int
		ok   bool
	}{
		{"HTTP/1.1 200 OK\r\n", 200, true},
		{"HTTP/1.0 503 Service Unavailable", 503, true},
		{"HTTP/1.1 20", 0, false},
		{"SSH-2.0-OpenSSH_9.2", 0, false},
		{"HTTP/1.1 abc xyz", 0, false},
	} {
		got, err := statusCode([]byte(tc.line))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("statusCode(%q) = %d, %v", tc.line, got, err)
		}
	}
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		port, path string
		wantPort   int
		wantPath   string
	}{
		{"", "", 8080, "/"},
		{"3000", "healthz", 3000, "/healthz"},
		{"70000", "/ready", 8080, "/ready"},
	} {
		t.Setenv("PORT", tc.port)
		t.Setenv("HEALTHCHECK_PATH", tc.path)
		port, path := target()
		if port != tc.wantPort || path != tc.wantPath {
			t.Errorf("PORT=%q HEALTHCHECK_PATH=%q: %d %q", tc.port, tc.path, port, path)
		}
	}
}
