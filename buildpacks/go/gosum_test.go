package golang

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// TestMissingGoSum: a module that requires others needs go.sum (or a vendor directory); one
// without requirements, or whose requirements are local directories, does not.
func TestMissingGoSum(t *testing.T) {
	const chi = "module example.com/app\n\ngo 1.24\n\nrequire github.com/go-chi/chi/v5 v5.2.0\n"
	for _, tt := range []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"no requirements", map[string]string{"go.mod": "module example.com/app\n\ngo 1.24\n"}, ""},
		{"requirement without go.sum", map[string]string{"go.mod": chi}, "requires 1 module(s) (github.com/go-chi/chi/v5) and the app has no go.sum beside it: run `go mod tidy`"},
		{"requirement with go.sum", map[string]string{"go.mod": chi, "go.sum": "github.com/go-chi/chi/v5 v5.2.0 h1:x=\n"}, ""},
		{"vendored", map[string]string{"go.mod": chi, "vendor/modules.txt": "# github.com/go-chi/chi/v5 v5.2.0\n"}, ""},
		{"local replacement", map[string]string{"go.mod": "module example.com/app\n\ngo 1.24\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ./lib\n"}, ""},
		{"many", map[string]string{"go.mod": "module example.com/app\n\ngo 1.24\n\nrequire (\n\ta.example/a v1.0.0\n\tb.example/b v1.0.0\n\tc.example/c v1.0.0\n\td.example/d v1.0.0\n)\n"},
			"requires 4 module(s) (a.example/a, b.example/b, c.example/c, ...)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, tt.files)
			proj, err := readProject(dir)
			if err != nil {
				t.Fatal(err)
			}
			err = missingGoSum(dir, proj)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("missingGoSum = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), filepath.Join(dir, "go.mod")) {
				t.Errorf("missingGoSum = %v, want an error naming %s and saying %q", err, filepath.Join(dir, "go.mod"), tt.wantErr)
			}
		})
	}
}
