package sharedlib

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// cc compiles a C source into out with extra flags.
func cc(t *testing.T, out, src string, flags ...string) {
	t.Helper()
	testenv.NeedCommand(t, "gcc", "apt-get install gcc zlib1g-dev")
	c := filepath.Join(t.TempDir(), "x.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-o", out, c}, flags...)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

func TestNeeded(t *testing.T) {
	dir := t.TempDir()
	// libbundled.so sits beside the program and is found through $ORIGIN; the program also loads
	// zlib (not in run:base) and libm (in run:base).
	cc(t, filepath.Join(dir, "libbundled.so"), "int bundled(void) { return 1; }", "-shared", "-fPIC")
	cc(t, filepath.Join(dir, "prog"), "#include <zlib.h>\n#include <math.h>\nint bundled(void);\nint main(int argc, char **argv) { (void)argv; return bundled() + (int)sqrt((double)argc) + (int)zlibVersion()[0]; }",
		"-L"+dir, "-lbundled", "-lz", "-lm", "-Wl,-rpath,$ORIGIN")
	cc(t, filepath.Join(dir, "noorigin"), "int bundled(void);\nint main(void) { return bundled(); }", "-L"+dir, "-lbundled")
	text := filepath.Join(dir, "script.py")
	if err := os.WriteFile(text, []byte("print('not ELF')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		files    []string
		provided func(string) bool
		want     []string
		err      string
	}{
		{"run:base covers glibc; zlib is copied; $ORIGIN libraries travel with the file", []string{filepath.Join(dir, "prog")}, RunBase, []string{"libz.so.1"}, ""},
		{"nothing provided: glibc too", []string{filepath.Join(dir, "prog")}, func(string) bool { return false }, []string{"libc.so.6", "libm.so.6", "libz.so.1"}, ""},
		{"not ELF: nothing", []string{text}, RunBase, []string{}, ""},
		{"a library found nowhere names the file", []string{filepath.Join(dir, "noorigin")}, RunBase, nil, "noorigin needs libbundled.so: not found in /lib/x86_64-linux-gnu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			libs, err := Needed(tt.files, tt.provided)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := Sonames(libs)
			// ld-linux is what libc itself needs when nothing is provided.
			got = slices.DeleteFunc(got, func(s string) bool { return strings.HasPrefix(s, "ld-linux") })
			if !slices.Equal(got, tt.want) {
				t.Errorf("Needed = %v, want %v", got, tt.want)
			}
			for _, l := range libs {
				if !filepath.IsAbs(l.Path) || l.For == "" {
					t.Errorf("%+v: want an absolute path and the file that needs it", l)
				}
			}
		})
	}
}

func TestCopyInto(t *testing.T) {
	src := filepath.Join(t.TempDir(), "libx.so.1.2.3")
	if err := os.WriteFile(src, []byte("library bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "layer", "lib")
	n, err := CopyInto([]Library{{Soname: "libx.so.1", Path: src}}, dst)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "libx.so.1"))
	if err != nil || string(got) != "library bytes" || n != int64(len(got)) {
		t.Errorf("copied %q (%d bytes), err %v", got, n, err)
	}
	if _, err := CopyInto([]Library{{Soname: "liby.so.1", Path: filepath.Join(t.TempDir(), "missing")}}, dst); err == nil || !strings.Contains(err.Error(), "liby.so.1") {
		t.Errorf("a missing library: err = %v, want one naming liby.so.1", err)
	}
}
