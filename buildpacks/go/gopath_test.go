package golang

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/testenv"
)

func TestNonStdImports(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{name: "standard library only", files: map[string]string{"main.go": "package main\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n"}},
		{name: "module imports", files: map[string]string{
			"main.go":      "package main\nimport (\n\t\"fmt\"\n\tmux \"github.com/gorilla/mux\"\n\t_ \"golang.org/x/text/language\"\n)\n",
			"main_test.go": "package main\nimport \"github.com/stretchr/testify/assert\"\n",
		}, want: []string{"github.com/gorilla/mux", "github.com/stretchr/testify/assert", "golang.org/x/text/language"}},
		{name: "vendor skipped", files: map[string]string{"main.go": "package main\n", "vendor/a/a.go": "package a\nimport \"example.com/b\"\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(dir, name), content)
			}
			got, err := nonStdImports(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("imports = %v, want %v", got, tt.want)
			}
		})
	}
	dir := t.TempDir()
	testenv.WriteFile(t, filepath.Join(dir, "bad.go"), "package main\nimport (\n")
	if _, err := nonStdImports(dir); err == nil || !strings.Contains(err.Error(), "bad.go") {
		t.Errorf("err = %v, want it to name bad.go", err)
	}
}

// TestBuildShapes builds a main package without go.mod and a go.work without a root go.mod with
// the go on PATH, and runs the binaries.
func TestBuildShapes(t *testing.T) {
	testenv.Slow(t, "compiles every shape with the Go toolchain")
	requireGo(t)
	main := func(msg, imp, call string) string {
		return "package main\n\nimport (\n\t\"fmt\"\n" + imp + ")\n\nfunc main() { fmt.Println(" + call + "\"" + msg + "\") }\n"
	}
	tests := []struct {
		name    string
		files   map[string]string
		targets string
		binary  string
		output  string
		log     string
	}{
		{
			name:   "main package without go.mod",
			files:  map[string]string{"main.go": main("gopath OK", "", ""), "README.md": "x"},
			binary: "app", output: "gopath OK", log: `No go.mod: building the main package as module "app"`,
		},
		{
			name: "go.work without root go.mod",
			files: map[string]string{
				"go.work":     "go 1.22\n\nuse (\n\t./api\n\t./lib\n)\n",
				"api/go.mod":  "module example.com/api\n\ngo 1.22\n",
				"api/main.go": main("workspace OK", "\t\"example.com/lib\"\n", "lib.Prefix+"),
				"lib/go.mod":  "module example.com/lib\n\ngo 1.22\n",
				"lib/lib.go":  "package lib\n\nconst Prefix = \"lib: \"\n",
			},
			targets: "./api", binary: "api", output: "lib: workspace OK", log: "workspace (go.work, no root go.mod)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			app, layers := filepath.Join(root, "app"), filepath.Join(root, "layers")
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(app, name), content)
			}
			linkSharedGoCache(t, layers)
			for _, k := range []string{"BP_GO_VERSION", "BP_GO_BUILD_FLAGS", "BP_GO_BUILD_LDFLAGS", "BP_KEEP_FILES"} {
				t.Setenv(k, "")
			}
			t.Setenv("BP_GO_TARGETS", tt.targets)
			var out bytes.Buffer
			_, err := (&Builder{Logger: log.NewPaketoLogger(&out), ListToolchains: hostGoIsNewest(t)}).Build(libcnb.BuildContext{
				ApplicationPath: app,
				Layers:          libcnb.Layers{Path: layers},
			})
			if err != nil {
				t.Fatalf("build: %v\n%s", err, out.String())
			}
			run, err := exec.Command(filepath.Join(layers, "app", "bin", tt.binary)).CombinedOutput()
			if err != nil || strings.TrimSpace(string(run)) != tt.output {
				t.Errorf("running %s: %v %q, want %q", tt.binary, err, run, tt.output)
			}
			if !strings.Contains(out.String(), tt.log) {
				t.Errorf("log lacks %q:\n%s", tt.log, out.String())
			}
			if entries, _ := os.ReadDir(app); len(entries) != 0 {
				t.Errorf("source left: %v", entries)
			}
		})
	}
}
