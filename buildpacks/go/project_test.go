package golang

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestReadProject(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		shape   Shape
		goLine  string
		uses    []string
		wantErr string
	}{
		{name: "module", files: map[string]string{"go.mod": "module m\ngo 1.22\n"}, shape: ShapeModule, goLine: "1.22"},
		{name: "go.mod wins over go.work", files: map[string]string{"go.mod": "module m\ngo 1.21\n", "go.work": "go 1.23\nuse .\n"}, shape: ShapeModule, goLine: "1.21"},
		{name: "workspace", files: map[string]string{"go.work": "go 1.24\n\nuse (\n\t./api\n\tshared\n)\n"}, shape: ShapeWorkspace, goLine: "1.24", uses: []string{"./api", "./shared"}},
		{name: "workspace toolchain", files: map[string]string{"go.work": "go 1.22\ntoolchain go1.25.4\nuse ./a\n"}, shape: ShapeWorkspace, goLine: "1.22", uses: []string{"./a"}},
		{name: "workspace using outside", files: map[string]string{"go.work": "go 1.22\nuse ../elsewhere\n"}, wantErr: "lies outside the app directory"},
		{name: "workspace using nothing", files: map[string]string{"go.work": "go 1.22\n"}, wantErr: "go work use"},
		{name: "bad go.work", files: map[string]string{"go.work": "go 1.22\nbogus(\n"}, wantErr: "go.work"},
		{name: "main package", files: map[string]string{"main.go": "package main\nfunc main() {}\n"}, shape: ShapeGOPATH},
		{name: "nothing", files: map[string]string{"README": "x"}, wantErr: "no Go project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(dir, name), content)
			}
			p, err := readProject(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Shape != tt.shape || p.Mod.Go != tt.goLine || !reflect.DeepEqual(p.Uses, tt.uses) {
				t.Errorf("project = %+v, want shape %v go %q uses %v", p, tt.shape, tt.goLine, tt.uses)
			}
		})
	}
}

func TestWorkspaceTargets(t *testing.T) {
	files := map[string]string{
		"api/main.go":             "package main\n",
		"worker/cmd/run/main.go":  "package main\n",
		"worker/cmd/tool/main.go": "package main\n",
		"lib/lib.go":              "package lib\n",
	}
	tests := []struct {
		name    string
		uses    []string
		targets string
		want    []string
		wantErr []string
	}{
		{name: "one main package", uses: []string{"./api", "./lib"}, want: []string{"./api"}},
		{name: "main packages in cmd", uses: []string{"./worker", "./lib"}, wantErr: []string{"/w/go.work uses several modules", "./worker/cmd/run, ./worker/cmd/tool", "BP_GO_TARGETS=./worker/cmd/run"}},
		{name: "ambiguous", uses: []string{"./api", "./worker"}, wantErr: []string{"/w/go.work", "(./api, ./worker/cmd/run, ./worker/cmd/tool)", "set BP_GO_TARGETS"}},
		{name: "none", uses: []string{"./lib"}, wantErr: []string{"/w/go.work uses ./lib", "none of them holds a main package", "BP_GO_TARGETS"}},
		{name: "target chosen", uses: []string{"./api", "./worker"}, targets: "./worker/cmd/tool", want: []string{"./worker/cmd/tool"}},
		{name: "several targets", uses: []string{"./api", "./worker"}, targets: "api:./worker/cmd/run", want: []string{"./api", "./worker/cmd/run"}},
		{name: "target outside the workspace", uses: []string{"./api"}, targets: "./worker/cmd/run", wantErr: []string{"./worker/cmd/run is in none of the modules /w/go.work uses (./api)", "main packages found: ./api"}},
		{name: "target not main", uses: []string{"./api", "./lib"}, targets: "./lib", wantErr: []string{"./lib is not a main package", "/w/go.work"}},
		{name: "root target without root module", uses: []string{"./api"}, targets: ".", wantErr: []string{". is in none of the modules"}},
	}
	dir := t.TempDir()
	for name, content := range files {
		testenv.WriteFile(t, filepath.Join(dir, name), content)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := workspaceTargets(dir, project{Shape: ShapeWorkspace, File: "/w/go.work", Uses: tt.uses}, tt.targets)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("targets %v, want an error", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSumKey(t *testing.T) {
	ws := project{Shape: ShapeWorkspace, Uses: []string{"./a", "./b"}}
	tests := []struct {
		name  string
		proj  project
		files map[string]string
		none  bool
	}{
		{name: "module without go.sum", proj: project{Shape: ShapeModule}, files: map[string]string{"go.mod": "module m\n"}, none: true},
		{name: "module with go.sum", proj: project{Shape: ShapeModule}, files: map[string]string{"go.sum": "x h1:abc\n"}},
		{name: "workspace without sums", proj: ws, files: map[string]string{"a/go.mod": "module a\n"}, none: true},
		{name: "workspace module sum", proj: ws, files: map[string]string{"b/go.sum": "x h1:abc\n"}},
		{name: "workspace go.work.sum", proj: ws, files: map[string]string{"go.work.sum": "x h1:abc\n"}},
	}
	keys := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(dir, name), content)
			}
			key, err := sumKey(dir, tt.proj)
			if err != nil {
				t.Fatal(err)
			}
			if (key == "none") != tt.none {
				t.Fatalf("key = %q, want none = %v", key, tt.none)
			}
			if prev, dup := keys[key]; dup && !tt.none {
				t.Errorf("key of %q equals that of %q", tt.name, prev)
			}
			keys[key] = tt.name
		})
	}
}

// FuzzParseWorkspace: parseWorkspace never panics; an error names go.work;
// an accepted workspace uses at least one module, each "." or "./dir"
// inside the app, and its go and toolchain lines choose a version or fail
// naming go.work. Seeds: testdata/fuzz/FuzzParseWorkspace.
func FuzzParseWorkspace(f *testing.F) {
	for _, s := range []string{"go 1.24\n\nuse (\n\t./api\n\tshared\n)\n", "go 1.22\ntoolchain go1.25.4\nuse ./a\n", "use ../x\n", "use /abs\n",
		"go 1.22\nuse ./a/../..\n", "use \"./with space\"\ngodebug default=go1.21\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		const path = "/app/go.work"
		p, err := parseWorkspace(path, []byte(data))
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name %s", err, path)
			}
			return
		}
		if len(p.Uses) == 0 {
			t.Fatalf("accepted a workspace that uses nothing: %+v", p)
		}
		for _, u := range p.Uses {
			if rel := filepath.Join("/app", u); u != "." && (!strings.HasPrefix(u, "./") || !strings.HasPrefix(rel, "/app/")) {
				t.Fatalf("use %q is not a directory inside the app", u)
			}
		}
		checkVersionChoice(t, path, p.Mod)
	})
}
