package node

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
		{name: "package.json", files: map[string]string{"package.json": "{}"}, pass: true, log: "Found package.json"},
		{name: "malformed package.json still detects", files: map[string]string{"package.json": "{"}, pass: true},
		{name: "server.js alone", files: map[string]string{"server.js": ""}, pass: true, log: "Found server.js"},
		{name: "app.js alone", files: map[string]string{"app.js": ""}, pass: true},
		{name: "index.js alone", files: map[string]string{"index.js": ""}, pass: true},
		{name: "other js file", files: map[string]string{"main.js": ""}, log: "SKIPPED: no package.json"},
		{name: "go app", files: map[string]string{"go.mod": "module m\n"}, log: "SKIPPED"},
		{name: "package.json in a subdir", files: map[string]string{"web/package.json": "{}"}, log: "SKIPPED"},
		{name: "package.json is a directory", dirs: []string{"package.json"}, log: "SKIPPED"},
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
			if tt.pass && (len(res.Plans) != 1 || res.Plans[0].Provides[0].Name != "node" || res.Plans[0].Requires[0].Name != "node") {
				t.Errorf("plans = %+v", res.Plans)
			}
			if !strings.Contains(buf.String(), tt.log) {
				t.Errorf("log %q does not mention %q", buf.String(), tt.log)
			}
		})
	}
}
