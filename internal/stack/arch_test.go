package stack

import (
	"bytes"
	"context"
	"debug/elf"
	"runtime"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// foreignArch is an architecture that is not the running one.
func foreignArch() string {
	if runtime.GOARCH == "arm64" {
		return "amd64"
	}
	return "arm64"
}

func TestBuildForeignArchNeedsExtract(t *testing.T) {
	d := loadStack(t, "build.toml")
	_, err := Build(context.Background(), d, WithArch(foreignArch()))
	if err == nil || !strings.Contains(err.Error(), "emulation") || !strings.Contains(err.Error(), "linux/"+foreignArch()) {
		t.Fatalf("build image for %s: error %v, want one naming emulation and the platform", foreignArch(), err)
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
