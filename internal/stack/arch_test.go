package stack

import (
	"bytes"
	"context"
	"debug/elf"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/sharedlib"
	"github.com/distill-build/distill/internal/testenv"
)

// foreignArch is an architecture that is not the running one.
func foreignArch() string {
	if runtime.GOARCH == "arm64" {
		return "amd64"
	}
	return "arm64"
}

// TestBuildForeignArchNeedsEmulation: without a binfmt_misc handler (an
// empty binfmt_misc dir), the build image (variant minbase) is refused for a
// foreign arch, saying what to install.
func TestBuildForeignArchNeedsEmulation(t *testing.T) {
	d := loadStack(t, "build.toml")
	_, err := Build(context.Background(), d, WithArch(foreignArch()), WithBinfmtDir(t.TempDir()))
	for _, want := range []string{"emulation", "linux/" + foreignArch(), "qemu-user-static", "binfmt_misc", "machine"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("build image for %s: error %v, want one naming %q", foreignArch(), err, want)
		}
	}
}

// TestBuildForeignArchWithEmulation: with a binfmt_misc handler for the
// foreign arch, the build image passes the emulation check and goes on to
// mmdebstrap (here a missing one, so nothing is built).
func TestBuildForeignArchWithEmulation(t *testing.T) {
	d := loadStack(t, "build.toml")
	dir := t.TempDir()
	handler := map[string]string{"arm64": binfmtAarch64, "amd64": binfmtX86_64}[foreignArch()]
	writeFile(t, filepath.Join(dir, "status"), "enabled\n")
	writeFile(t, filepath.Join(dir, "qemu"), handler)
	noTool := func(o *buildOptions) { o.tool = "distill-test-no-such-mmdebstrap" }
	_, err := Build(context.Background(), d, WithArch(foreignArch()), WithBinfmtDir(dir), noTool)
	if err == nil || strings.Contains(err.Error(), "emulation") || !strings.Contains(err.Error(), "install mmdebstrap") {
		t.Fatalf("build image for %s with a binfmt handler: error %v, want the missing mmdebstrap's", foreignArch(), err)
	}
}

func TestMmdebstrapArgsArch(t *testing.T) {
	d := loadStack(t, "run-static.toml")
	for _, tc := range []struct{ goarch, want string }{
		{"amd64", "--architectures=amd64"},
		{"arm64", "--architectures=arm64"},
		{"arm", "--architectures=armhf"},
		{"ppc64le", "--architectures=ppc64el"},
	} {
		args := mmdebstrapArgs(d, debArch(tc.goarch), "out.tar", nil)
		if !strings.Contains(strings.Join(args, " "), tc.want) {
			t.Errorf("%s: args %q lack %s", tc.goarch, args, tc.want)
		}
	}
}

// TestBuildRunBaseForeignArch builds run:base from the other architecture's
// Debian packages, without emulation: the config, the status.d records and
// the ELF files are that architecture's.
func TestBuildRunBaseForeignArch(t *testing.T) {
	testenv.Slow(t, "mmdebstrap fetches and unpacks another architecture's Debian packages (half a minute)")
	needMmdebstrap(t)
	arch := foreignArch()
	d := loadStack(t, "run-base.toml")
	b := buildStack(t, d, WithArch(arch))
	checkCommon(t, d, b)
	cf, err := b.img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	wantVariant := map[string]string{"arm64": "v8"}[arch]
	if cf.Architecture != arch || cf.Variant != wantVariant {
		t.Errorf("config architecture %q variant %q, want %q %q", cf.Architecture, cf.Variant, arch, wantVariant)
	}
	debian := debArch(arch)
	if rec := string(b.content["var/lib/dpkg/status.d/libc6"]); !strings.Contains(rec, "\nArchitecture: "+debian+"\n") {
		t.Errorf("status.d/libc6 is not for %s:\n%s", debian, rec)
	}
	machine := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[arch]
	elves := 0
	for name, data := range b.content {
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			continue
		}
		elves++
		if f.Machine != machine {
			t.Errorf("%s is %s, want %s", name, f.Machine, machine)
		}
	}
	if elves == 0 {
		t.Error("no ELF file in run:base")
	}
}

// TestBuildTargetRootForeignArch builds the build image's target root
// (stacks/build-target.toml) for the other architecture and reads it back
// the way buildpacks do: the libraries CPython and Node.js need resolve
// inside it for that machine (sharedlib.NeededIn), and its status.d records
// with their md5sums say which package owns each (dpkg.Open).
func TestBuildTargetRootForeignArch(t *testing.T) {
	testenv.Slow(t, "mmdebstrap fetches and unpacks another architecture's Debian packages (half a minute)")
	needMmdebstrap(t)
	arch := foreignArch()
	d := loadStack(t, "build-target.toml")
	b := buildStack(t, d, WithArch(arch))
	root := filepath.Join(t.TempDir(), "root")
	if err := image.Unpack(context.Background(), b.img, root); err != nil {
		t.Fatal(err)
	}
	triplet := map[string]string{"arm64": "aarch64-linux-gnu", "amd64": "x86_64-linux-gnu"}[arch]
	python := filepath.Join(root, "usr", "bin", "python3.13")
	libs, err := sharedlib.NeededIn(root, []string{python, filepath.Join(root, "usr/lib", triplet, "libstdc++.so.6")}, sharedlib.RunBase)
	if err != nil {
		t.Fatal(err)
	}
	got := sharedlib.Sonames(libs)
	for _, want := range []string{"libz.so.1", "libexpat.so.1"} {
		if !slices.Contains(got, want) {
			t.Errorf("python3.13 needs %v, want %s among them", got, want)
		}
	}
	db, err := dpkg.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{
		python: "python3.13-minimal",
		filepath.Join(root, "usr/lib", triplet, "libstdc++.so.6"): "libstdc++6", // a symbolic link to the versioned file
		"/usr/lib/python3.13/os.py":                               "libpython3.13-minimal",
	}
	for _, l := range libs {
		if !strings.HasPrefix(l.Path, root+"/") {
			t.Errorf("%s resolved outside the root: %s", l.Soname, l.Path)
		}
	}
	for file, want := range owners {
		p, ok := db.Owner(file)
		if !ok || p.Name != want || p.Arch != debArch(arch) {
			t.Errorf("Owner(%s) = %+v, %v; want %s for %s", file, p, ok, want, debArch(arch))
		}
	}
}
