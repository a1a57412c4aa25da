package buildpack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddLayer(t *testing.T) {
	layer := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(layer, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(layer, "bin"), 0o755)
	write("env/GOROOT", "/layers/go/go")
	write("env/GOFLAGS.default", "-mod=mod")
	write("env/GOPROXY.default", "ignored")
	write("env/CGO_CFLAGS.append", "-O2")
	write("env/CGO_CFLAGS.delim", " ")
	write("env/PYTHONPATH.prepend", "/layers/py/lib")
	write("env/PYTHONPATH.delim", ":")
	write("env.build/ONLY_BUILD", "yes")
	write("env.launch/ONLY_LAUNCH", "yes")

	for _, tc := range []struct {
		phase Phase
		want  map[string]string
		unset []string
	}{
		{PhaseBuild, map[string]string{
			"PATH": "/layers/go/bin:/usr/bin", "GOROOT": "/layers/go/go", "GOFLAGS": "-mod=mod",
			"GOPROXY": "set", "CGO_CFLAGS": "-g -O2", "PYTHONPATH": "/layers/py/lib:/app", "ONLY_BUILD": "yes",
		}, []string{"ONLY_LAUNCH"}},
		{PhaseLaunch, map[string]string{"ONLY_LAUNCH": "yes"}, []string{"ONLY_BUILD"}},
	} {
		t.Run(string(tc.phase), func(t *testing.T) {
			e := Env{"PATH": "/usr/bin", "GOPROXY": "set", "CGO_CFLAGS": "-g", "PYTHONPATH": "/app"}
			if err := e.AddLayer(layer, "/layers/go", tc.phase); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if e[k] != v {
					t.Errorf("%s = %q, want %q", k, e[k], v)
				}
			}
			for _, k := range tc.unset {
				if _, ok := e[k]; ok {
					t.Errorf("%s set, want unset", k)
				}
			}
		})
	}
}

func TestApplyDirUnknownSuffix(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "X.sideways"), []byte("1"), 0o644)
	if err := (Env{}).ApplyDir(dir); err == nil {
		t.Fatal("want an error for an unknown suffix")
	}
}

func TestReadDescriptorErrors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"no id", "api = \"0.10\"\n[buildpack]\nversion = \"1\"\n", "[buildpack] id is required"},
		{"no api", "[buildpack]\nid = \"x\"\nversion = \"1\"\n", "api is required"},
		{"bad toml", "[buildpack\n", "buildpack.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "buildpack.toml"), []byte(tc.content), 0o644)
			_, err := ReadDescriptor(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
