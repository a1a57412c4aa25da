package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeBinary is an executable file standing for the distill binary, running
// the modules named in ids.
func fakeBinary(t *testing.T, content string, ids ...string) *Binary {
	t.Helper()
	p := filepath.Join(t.TempDir(), "distill")
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	runs := map[string]bool{}
	for _, id := range ids {
		runs[id] = true
	}
	return &Binary{Path: p, Runs: func(id string) bool { return runs[id] }}
}

func writeModule(t *testing.T, file, id string, bins ...string) string {
	t.Helper()
	dir := t.TempDir()
	table := strings.TrimSuffix(file, ".toml")
	desc := "api = \"0.10\"\n[" + table + "]\nid = \"" + id + "\"\nversion = \"1.0.0\"\n"
	if err := os.WriteFile(filepath.Join(dir, file), []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, b := range bins {
		os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "bin", b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPrepareModule(t *testing.T) {
	bin := fakeBinary(t, "distill v1", "distill/go", "distill/run-static")
	for _, tc := range []struct {
		name, file, id string
		bins           []string
		main           string // the file that must hold the binary
		wantErr        string
	}{
		{name: "carried buildpack", file: "buildpack.toml", id: "distill/go", main: "build"},
		{name: "carried extension", file: "extension.toml", id: "distill/run-static", main: "generate"},
		{name: "carried buildpack with a stale bin", file: "buildpack.toml", id: "distill/go", bins: []string{"build", "detect"}, main: "build"},
		{name: "foreign buildpack with bin", file: "buildpack.toml", id: "other/bp", bins: []string{"build", "detect"}},
		{name: "foreign buildpack without bin", file: "buildpack.toml", id: "other/bp", wantErr: "no bin/detect: not a runnable buildpack"},
		{name: "foreign extension without generate", file: "extension.toml", id: "other/ext", bins: []string{"detect"}, wantErr: "no bin/generate: not a runnable extension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeModule(t, tc.file, tc.id, tc.bins...)
			d, err := PrepareModule(dir, bin)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), dir) {
					t.Fatalf("err = %v, want one naming %s and %q", err, dir, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Info().ID != tc.id {
				t.Errorf("id = %q", d.Info().ID)
			}
			if tc.main == "" {
				return
			}
			if b, err := os.ReadFile(filepath.Join(dir, "bin", tc.main)); err != nil || string(b) != "distill v1" {
				t.Errorf("bin/%s = %q, %v; want the binary", tc.main, b, err)
			}
			if target, err := os.Readlink(filepath.Join(dir, "bin", "detect")); err != nil || target != tc.main {
				t.Errorf("bin/detect -> %q, %v; want %s", target, err, tc.main)
			}
		})
	}
}

func TestPrepareModuleReplacesAnOlderBinary(t *testing.T) {
	dir := writeModule(t, "buildpack.toml", "distill/go")
	if _, err := PrepareModule(dir, fakeBinary(t, "old", "distill/go")); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareModule(dir, fakeBinary(t, "new", "distill/go")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "bin", "build")); string(b) != "new" {
		t.Fatalf("bin/build = %q after the binary changed", b)
	}
}

func TestEmbedded(t *testing.T) {
	files := fstest.MapFS{
		"builder.toml":                 {Data: []byte(validConfig)},
		"buildpacks/go/buildpack.toml": {Data: []byte("api = \"0.10\"\n[buildpack]\nid = \"distill/go\"\nversion = \"1.0.0\"\n")},
		"stacks/run-base.toml":         {Data: []byte("ref = \"distill/run:base\"\n")},
	}
	bin := fakeBinary(t, "distill v1", "distill/go")
	cache := t.TempDir()
	b, err := Embedded(files, bin, cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Buildpacks) != 1 || b.Buildpacks[0].Info().ID != "distill/go" {
		t.Fatalf("buildpacks = %v", b.Buildpacks)
	}
	if got, err := os.ReadFile(filepath.Join(b.Buildpacks[0].Dir, "bin", "build")); err != nil || string(got) != "distill v1" {
		t.Fatalf("bin/build = %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(b.StacksDir(), "run-base.toml")); err != nil {
		t.Fatalf("stacks: %v", err)
	}
	again, err := Embedded(files, bin, cache)
	if err != nil || again.Config.Path != b.Config.Path {
		t.Fatalf("second load: %v, %s != %s", err, again.Config.Path, b.Config.Path)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 {
		t.Fatalf("cache holds %d entries, want one builder and no temporary directory", len(entries))
	}
	other, err := Embedded(files, fakeBinary(t, "distill v2", "distill/go"), cache)
	if err != nil || other.Config.Path == b.Config.Path {
		t.Fatalf("another binary must get its own builder: %v", err)
	}
}

// TestPrepareModuleCopiesAcrossFileSystems: where the binary cannot be hard
// linked (another file system, a file bind-mounted into a container) it is
// copied. /proc/self/exe stands for such a binary: it cannot be linked.
func TestPrepareModuleCopiesAcrossFileSystems(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Link("/proc/self/exe", filepath.Join(t.TempDir(), "x")); err == nil {
		t.Fatal("/proc/self/exe could be hard-linked: the test would not exercise the copy")
	}
	bin := &Binary{Path: "/proc/self/exe", Runs: func(string) bool { return true }}
	dir := writeModule(t, "buildpack.toml", "distill/go")
	if _, err := PrepareModule(dir, bin); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(exe)
	got, err := os.ReadFile(filepath.Join(dir, "bin", "build"))
	if err != nil || len(got) != len(want) {
		t.Fatalf("bin/build: %d bytes, %v; want a copy of the test binary (%d bytes)", len(got), err, len(want))
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "bin"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".build") {
			t.Errorf("temporary file %s left in bin/", e.Name())
		}
	}
}
