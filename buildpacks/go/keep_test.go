package golang

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestRemoveSource(t *testing.T) {
	files := []string{
		"main.go", "go.mod", "README.md", "assets/index.html", "assets/css/site.css",
		"templates/a.tmpl", "templates/sub/b.tmpl", "internal/x/x.go", "public/img/logo.png",
	}
	tests := []struct {
		name    string
		keep    string
		want    []string // files left, sorted
		wantErr string
	}{
		{name: "remove all", keep: "", want: nil},
		{name: "single level glob keeps matched dirs whole", keep: "templates/*", want: []string{"templates/a.tmpl", "templates/sub/b.tmpl"}},
		{name: "files only", keep: "templates/*.tmpl", want: []string{"templates/a.tmpl"}},
		{name: "doublestar", keep: "assets/**", want: []string{"assets/css/site.css", "assets/index.html"}},
		{name: "directory kept whole", keep: "public:README.md", want: []string{"README.md", "public/img/logo.png"}},
		{name: "several", keep: "./templates/**/*.tmpl:*.md", want: []string{"README.md", "templates/a.tmpl", "templates/sub/b.tmpl"}},
		{name: "absolute", keep: "/etc/*", wantErr: "relative"},
		{name: "invalid", keep: "assets/[", wantErr: "not a valid glob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range files {
				testenv.WriteFile(t, filepath.Join(dir, f), "x")
			}
			pats, err := parseKeepPatterns(tt.keep)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := removeSource(dir, keeper{Patterns: pats}); err != nil {
				t.Fatal(err)
			}
			var left []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					left = append(left, filepath.ToSlash(rel))
				}
				return nil
			})
			sort.Strings(left)
			if !reflect.DeepEqual(left, tt.want) {
				t.Errorf("left %v, want %v", left, tt.want)
			}
			if len(tt.want) == 0 {
				entries, _ := os.ReadDir(dir)
				if len(entries) != 0 {
					t.Errorf("app dir not empty: %v", entries)
				}
			}
			if _, err := os.Stat(dir); err != nil {
				t.Errorf("app dir itself removed: %v", err)
			}
		})
	}
}

func TestMakeWritableAndRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layer")
	testenv.WriteFile(t, filepath.Join(dir, "mod", "a@v1", "f.go"), "x")
	if err := os.Chmod(filepath.Join(dir, "mod", "a@v1"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := makeWritableAndRemove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("still there: %v", err)
	}
}
