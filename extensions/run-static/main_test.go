package runstatic

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWithTag(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"distill/run:base", "distill/run:static"},
		{"distill/run", "distill/run:static"},
		{"127.0.0.1:5000/distill/run:base", "127.0.0.1:5000/distill/run:static"},
		{"127.0.0.1:5000/run@sha256:abc", "127.0.0.1:5000/run:static"},
	} {
		if got := withTag(tc.in, "static"); got != tc.want {
			t.Errorf("withTag(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDetect(t *testing.T) {
	t.Setenv(optIn, "true")
	for _, tc := range []struct {
		name  string
		files []string
		want  bool
	}{
		{"go module", []string{"go.mod"}, true},
		{"main package without go.mod", []string{"main.go"}, true},
		{"library without go.mod", []string{"lib.go"}, false},
		{"go workspace", []string{"go.work"}, true},
		{"no go", []string{"README.md"}, false},
		{"go and node", []string{"go.mod", "package.json"}, false},
		{"go and python", []string{"go.mod", "requirements.txt"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				content := []byte(nil)
				switch f {
				case "main.go":
					content = []byte("package main\n")
				case "lib.go":
					content = []byte("package lib\n")
				}
				if err := os.WriteFile(filepath.Join(dir, f), content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := detect(dir); got != tc.want {
				t.Errorf("detect = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDetectNeedsOptIn(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), nil, 0o644)
	t.Setenv(optIn, "")
	if detect(dir) {
		t.Error("detected without the platform opting in")
	}
}
