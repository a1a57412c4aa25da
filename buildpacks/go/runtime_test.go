package golang

import (
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestFindRuntimeFiles(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		keep      []string
		unmatched []string
	}{
		{
			name: "gin-style templates and static",
			files: map[string]string{
				"main.go":                   "package main\nfunc main() { r.LoadHTMLGlob(\"templates/*.tmpl.html\"); r.Static(\"/static\", \"static\") }\n",
				"templates/index.tmpl.html": "<p>", "static/app.css": "p{}", "README.md": "docs",
			},
			keep: []string{"static", "templates", "templates/index.tmpl.html"},
		},
		{
			name: "data file and directory named in literals",
			files: map[string]string{
				"main.go":         "package main\nconst cfg = `./config/app.yaml`\nvar dir = \"migrations\"\n",
				"config/app.yaml": "a: 1", "config/other.yaml": "b: 2",
				"migrations/001.sql": "create", "internal/db/db.go": "package db\nvar q = \"queries/q.sql\"\n",
				"queries/q.sql": "select",
			},
			keep: []string{"config/app.yaml", "migrations", "queries/q.sql"},
		},
		{
			name: "not paths: urls, absolute, go source, module files, bare globs, tests",
			files: map[string]string{
				"main.go":      "package main\nvar a = []string{\"http://x/y\", \"/etc/passwd\", \"main.go\", \"go.mod\", \"*\", \"%s.txt\", \".\", \"../up\", \"hello world\"}\n",
				"main_test.go": "package main\nvar f = \"fixture.json\"\n",
				"go.mod":       "module m\n", "fixture.json": "{}",
			},
		},
		{
			name:      "glob matching nothing",
			files:     map[string]string{"main.go": "package main\nvar g = \"views/*.html\"\n"},
			unmatched: []string{"views/*.html"},
		},
		{
			name:  "asset directory with Go source only is still listed; Go files are not kept",
			files: map[string]string{"main.go": "package main\n", "assets/embed.go": "package assets\n"},
			keep:  []string{"assets"},
		},
		{
			name:  "vendor and testdata are not scanned",
			files: map[string]string{"main.go": "package main\n", "vendor/x/x.go": "package x\nvar p = \"data.txt\"\n", "data.txt": "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(dir, name), content)
			}
			rf, err := findRuntimeFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(rf.Keep)); !reflect.DeepEqual(got, tt.keep) && !(len(got) == 0 && len(tt.keep) == 0) {
				t.Errorf("keep = %v, want %v (%v)", got, tt.keep, rf.Keep)
			}
			if got := slices.Sorted(maps.Keys(rf.Unmatched)); !reflect.DeepEqual(got, tt.unmatched) && !(len(got) == 0 && len(tt.unmatched) == 0) {
				t.Errorf("unmatched = %v, want %v", got, tt.unmatched)
			}
		})
	}
}

func TestKeeper(t *testing.T) {
	k := keeper{Patterns: []string{"docs/*.md"}, Runtime: []string{"static", "data/a.txt"}}
	tests := map[string]bool{
		"static/app.css":   true,
		"static/sub/x.png": true,
		"static/gen.go":    false, // Go source in an asset directory goes
		"staticfile":       false,
		"data/a.txt":       true,
		"data/b.txt":       false,
		"docs/readme.md":   true,
		"main.go":          false,
	}
	for rel, want := range tests {
		if got := k.keeps(rel); got != want {
			t.Errorf("keeps(%q) = %v, want %v", rel, got, want)
		}
	}
}
