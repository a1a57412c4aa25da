package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// TestBudget: distill build with a size budget the Go sample exceeds (from
// --max-size, then from project.toml, then for two platforms) fails naming
// the budget, the overshoot (and the platform), the table and the largest
// file, and writes no image (but the JSON and HTML reports asked for, every
// platform's); a flag
// over the image's size lets the build through.
func TestBudget(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	g := sharedGoImage(t)
	app := filepath.Join(t.TempDir(), "go-mux")
	if out, err := exec.Command("cp", "-r", g.app, app).CombinedOutput(); err != nil {
		t.Fatalf("copying the app: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(app, "project.toml"), []byte("[_]\nschema-version = \"0.2\"\n\n[io.distill.build]\nmax-size = \"1MB\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		args       []string
		wantSource string
		platforms  int // in the JSON report's "platforms" list (0: a single report)
	}{
		{name: "project.toml", wantSource: "project.toml [io.distill.build] max-size 1MB"},
		{name: "--max-size", args: []string{"--max-size", "2MB"}, wantSource: "over the budget of 2.0 MB (--max-size 2MB)"},
		{name: "two platforms", args: []string{"--max-size", "2MB", "--platform", "linux/amd64,linux/arm64"}, wantSource: "the linux/arm64/v8 image sha256:", platforms: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "image")
			reports := t.TempDir()
			jsonReport, htmlReport := filepath.Join(reports, "report.json"), filepath.Join(reports, "report.html")
			args := append([]string{"-o", "oci:" + out, "--cache-dir", g.cache, "--report-json", jsonReport, "--report-html", htmlReport}, tt.args...)
			b := distill(t, app, args...)
			if b.err == nil {
				t.Fatalf("an image over budget was built:\n%s", b.stdout)
			}
			t.Logf("distill build over budget:\n%s", b.stderr[max(0, strings.Index(b.stderr, "ERROR:")):])
			for _, want := range []string{tt.wantSource, "no image was written", "TOTAL", "The 5 largest files", "/layers/distill_go/app/bin/go-mux  (distill/go:app)"} {
				if !strings.Contains(b.stderr, want) {
					t.Errorf("stderr lacks %q", want)
				}
			}
			for _, p := range []string{jsonReport, htmlReport} { // the reports of the image that was too big
				if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
					t.Errorf("no report %s after a build over budget: %v", p, err)
				}
			}
			var rep struct{ Platforms []json.RawMessage }
			if data, err := os.ReadFile(jsonReport); err != nil || json.Unmarshal(data, &rep) != nil || len(rep.Platforms) != tt.platforms {
				t.Errorf("the JSON report has %d platforms, want %d (%v)", len(rep.Platforms), tt.platforms, err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the target %s exists after a build over budget (%v)", out, err)
			}
			siblings, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*"))
			if len(siblings) > 0 {
				t.Errorf("a build over budget left %v", siblings)
			}
		})
	}
	t.Run("within --max-size", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "image")
		b := distill(t, app, "-o", "oci:"+out, "--cache-dir", g.cache, "--max-size", "50MB").must(t)
		if b.report.Total.Compressed > 50_000_000 {
			t.Errorf("built %d bytes under a 50MB budget", b.report.Total.Compressed)
		}
	})
}
