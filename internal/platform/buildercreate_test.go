package platform

import (
	"debug/elf"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"

	"github.com/distill-build/distill/internal/elftest"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/lifecycle"
	"github.com/distill-build/distill/internal/sharedlib"
)

func TestPlatformFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    map[string]string
		wantErr string
	}{
		{"none", nil, map[string]string{}, ""},
		{"bare file", []string{"lc.tgz"}, map[string]string{"": "lc.tgz"}, ""},
		{"per platform", []string{"lc.tgz", "linux/arm64=arm.tgz", "linux/amd64=amd.tgz"},
			map[string]string{"": "lc.tgz", "linux/arm64/v8": "arm.tgz", "linux/amd64": "amd.tgz"}, ""},
		{"variant and aarch64", []string{"linux/aarch64=a.tgz"}, map[string]string{"linux/arm64/v8": "a.tgz"}, ""},
		{"explicit variant", []string{"linux/arm64/v8=a.tgz"}, map[string]string{"linux/arm64/v8": "a.tgz"}, ""},
		{"= in a bare path", []string{"dir/a=b.tgz"}, nil, "distill builds linux images only"},
		{"= without platform", []string{"a=b.tgz"}, map[string]string{"": "a=b.tgz"}, ""},
		{"twice", []string{"linux/arm64=a", "linux/arm64/v8=b"}, nil, "a second file for linux/arm64/v8"},
		{"bare twice", []string{"a", "b"}, nil, "a second file for the host's platform"},
		{"empty file", []string{"linux/arm64="}, nil, "no file"},
		{"unsupported", []string{"linux/s390x=a"}, nil, "no run images for s390x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PlatformFiles("--lifecycle", tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "--lifecycle") {
					t.Fatalf("error %v, want one naming --lifecycle and containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCreateOptions(t *testing.T) {
	exe, err := os.Executable() // this test binary: an ELF file of the running arch
	if err != nil {
		t.Fatal(err)
	}
	foreign := "arm64"
	if runtime.GOARCH == "arm64" {
		foreign = "amd64"
	}
	hostP, foreignP := HostPlatform(), platformFor(lifecycle.TargetFor("linux", foreign))
	dir := t.TempDir()
	hostLC := lifecycleTarball(t, dir, "host.tgz", elfFor(runtime.GOARCH))
	foreignLC := lifecycleTarball(t, dir, "foreign.tgz", elfFor(foreign))
	notELF := filepath.Join(t.TempDir(), "distill")
	os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755)
	runs := &builder.Binary{Path: exe, Runs: func(string) bool { return true }}
	for _, tc := range []struct {
		name       string
		p          v1.Platform
		single     bool
		lifecycles map[string]string
		binaries   map[string]string
		wantErr    string
		wantLC     string
		wantBin    string
	}{
		{"single host: today's options, unchecked", hostP, true, map[string]string{"": "lc.tgz"}, nil, "", "lc.tgz", ""},
		{"host in an index", hostP, false, map[string]string{"": hostLC}, nil, "", hostLC, ""},
		{"host by platform", hostP, false, map[string]string{hostP.String(): hostLC, "": "lc.tgz"}, nil, "", hostLC, ""},
		{"host given the foreign lifecycle", hostP, false, map[string]string{"": foreignLC}, nil, "not linux/" + runtime.GOARCH, "", ""},
		{"foreign with the host's binary", foreignP, false, map[string]string{foreignP.String(): foreignLC}, map[string]string{foreignP.String(): exe}, "is for", "", ""},
		{"foreign with the host's lifecycle", foreignP, false, map[string]string{foreignP.String(): hostLC}, nil, "--lifecycle linux/" + foreign + "=", "", ""},
		{"foreign without lifecycle", foreignP, false, map[string]string{"": hostLC}, nil, "--lifecycle linux/" + foreign + "=FILE", "", ""},
		{"foreign without binary", foreignP, false, map[string]string{foreignP.String(): foreignLC}, nil, "--binary linux/" + foreign + "=PATH", "", ""},
		{"host binary given", hostP, false, map[string]string{"": hostLC}, map[string]string{hostP.String(): exe}, "", hostLC, exe},
		{"binary not ELF", hostP, false, map[string]string{"": hostLC}, map[string]string{"": notELF}, "not an ELF executable", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := CreateBuilderOptions{Binary: runs, Lifecycles: tc.lifecycles, Binaries: tc.binaries}
			co, err := createOptions(o, tc.p, tc.single, t.TempDir())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if co.Lifecycle != tc.wantLC {
				t.Errorf("lifecycle %q, want %q", co.Lifecycle, tc.wantLC)
			}
			if wantArch := map[bool]string{true: "", false: tc.p.Architecture}[tc.single]; co.Arch != wantArch {
				t.Errorf("arch %q, want %q", co.Arch, wantArch)
			}
			if got := ""; co.Binary != nil {
				got = co.Binary.Path
				if got != tc.wantBin {
					t.Errorf("binary %q, want %q", got, tc.wantBin)
				}
			} else if tc.wantBin != "" {
				t.Errorf("no binary, want %q", tc.wantBin)
			}
		})
	}
}

// elfFor is the 64-byte header of a 64-bit little-endian ELF executable
// for GOARCH arch: what debug/elf reads the machine from.
func elfFor(arch string) []byte {
	m, _ := sharedlib.MachineFor(arch)
	return elftest.Header(m, elf.ET_EXEC)
}

// lifecycleTarball writes dir/name: a lifecycle tarball whose
// lifecycle/lifecycle is exe.
func lifecycleTarball(t *testing.T, dir, name string, exe []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	testenv.WriteTarGz(t, p, testenv.TarFile{Name: "lifecycle.toml", Body: []byte("[lifecycle]\nversion = \"0.20.11\"\n")},
		testenv.TarFile{Name: "lifecycle/lifecycle", Body: exe})
	return p
}
