package sharedlib

import (
	"debug/elf"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/distill-build/distill/internal/elftest"
)

func writeFile(t *testing.T, p string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMachine(t *testing.T) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	host, err := MachineFor(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		file   string
		want   elf.Machine
		wantOK bool
	}{
		{"the test binary is the host's", self, host, true},
		{"an aarch64 header", writeFile(t, filepath.Join(dir, "arm.node"), elftest.Header(elf.EM_AARCH64, elf.ET_DYN)), elf.EM_AARCH64, true},
		{"an x86-64 header", writeFile(t, filepath.Join(dir, "x64.node"), elftest.Header(elf.EM_X86_64, elf.ET_DYN)), elf.EM_X86_64, true},
		{"a script is not ELF", writeFile(t, filepath.Join(dir, "index.js"), []byte("module.exports = 1\n")), elf.EM_NONE, false},
		{"three bytes are not ELF", writeFile(t, filepath.Join(dir, "short"), []byte("\x7fEL")), elf.EM_NONE, false},
		{"ELF magic alone is not ELF", writeFile(t, filepath.Join(dir, "magic"), elfMagic), elf.EM_NONE, false},
		{"an empty file is not ELF", writeFile(t, filepath.Join(dir, "empty"), nil), elf.EM_NONE, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok, err := Machine(tt.file)
			if err != nil || m != tt.want || ok != tt.wantOK {
				t.Errorf("Machine(%s) = %v, %v, %v; want %v, %v", tt.file, m, ok, err, tt.want, tt.wantOK)
			}
		})
	}
	if _, _, err := Machine(filepath.Join(dir, "missing")); err == nil {
		t.Error("Machine of a missing file: no error")
	}
}

func TestForeignELFs(t *testing.T) {
	dir := t.TempDir()
	arm := writeFile(t, filepath.Join(dir, "node_modules", "a", "build", "Release", "a.node"), elftest.Header(elf.EM_AARCH64, elf.ET_DYN))
	x64 := writeFile(t, filepath.Join(dir, "node_modules", "b", "b.node"), elftest.Header(elf.EM_X86_64, elf.ET_DYN))
	writeFile(t, filepath.Join(dir, "node_modules", "b", "index.js"), []byte("x"))
	if err := os.Symlink(x64, filepath.Join(dir, "link.node")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want elf.Machine
		out  []Foreign
	}{
		{"for arm64 the x86-64 addon is foreign, the link to it is not followed", dir, elf.EM_AARCH64, []Foreign{{x64, elf.EM_X86_64}}},
		{"for amd64 the aarch64 addon is foreign", dir, elf.EM_X86_64, []Foreign{{arm, elf.EM_AARCH64}}},
		{"a missing dir holds none", filepath.Join(dir, "none"), elf.EM_X86_64, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ForeignELFs(tt.dir, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.out) {
				t.Errorf("ForeignELFs = %+v, want %+v", out, tt.out)
			}
		})
	}
}

func TestMachineFor(t *testing.T) {
	for _, tt := range []struct {
		arch string
		want elf.Machine
		err  bool
	}{{"amd64", elf.EM_X86_64, false}, {"arm64", elf.EM_AARCH64, false}, {"riscv64", elf.EM_NONE, true}} {
		m, err := MachineFor(tt.arch)
		if m != tt.want || (err != nil) != tt.err {
			t.Errorf("MachineFor(%q) = %v, %v", tt.arch, m, err)
		}
	}
}
