package golang

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		dirs  []string
		pass  bool
		log   string
	}{
		{name: "go.mod at root", files: map[string]string{"go.mod": "module m\n"}, pass: true, log: "module (go.mod)"},
		{name: "main package without go.mod", files: map[string]string{"main.go": "package main\n"}, pass: true, log: "main package without go.mod"},
		{name: "go.work without go.mod", files: map[string]string{"go.work": "go 1.24\nuse ./api\n", "api/go.mod": "module a\n"}, pass: true, log: "workspace (go.work"},
		{name: "library package without go.mod", files: map[string]string{"lib.go": "package lib\n"}, log: "no go.mod, go.work or main package"},
		{name: "only a test of package main", files: map[string]string{"main_test.go": "package main\n"}, log: "no go.mod, go.work or main package"},
		{name: "go.mod only in subdir", files: map[string]string{"sub/go.mod": "module m\n"}, log: "no go.mod, go.work or main package"},
		{name: "go.mod is a directory", dirs: []string{"go.mod"}, log: "no go.mod, go.work or main package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(dir, name), content)
			}
			for _, d := range tt.dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			res, err := Detector{Logger: log.NewPaketoLogger(&buf)}.Detect(libcnb.DetectContext{ApplicationPath: dir})
			if err != nil {
				t.Fatal(err)
			}
			if res.Pass != tt.pass {
				t.Fatalf("pass = %v, want %v", res.Pass, tt.pass)
			}
			if tt.pass {
				if len(res.Plans) != 1 || res.Plans[0].Provides[0].Name != "go" || res.Plans[0].Requires[0].Name != "go" {
					t.Errorf("plans = %+v", res.Plans)
				}
			}
			if !strings.Contains(buf.String(), tt.log) || (!tt.pass && !strings.Contains(buf.String(), dir)) {
				t.Errorf("log %q does not mention %q and the dir", buf.String(), tt.log)
			}
		})
	}
}
