package stack

import (
	"os"
	"path/filepath"
	"testing"
)

// Handler files as Debian's qemu-user-static (binfmt-support) registers them.
const (
	binfmtAarch64 = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: POF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`
	binfmtX86_64 = `enabled
interpreter /usr/bin/qemu-x86_64-static
flags: F
offset 0
magic 7f454c4602010100000000000000000002003e00
mask fffffffffffefe00fffffffffffffffffeffffff
`
	// A handler named by its interpreter only (no ELF magic: an extension match).
	binfmtByName = `enabled
interpreter /usr/bin/qemu-aarch64
flags: 
extension .arm
`
	binfmtJava = `enabled
interpreter /usr/bin/jexec
flags: 
offset 0
magic 504b0304
`
)

func TestEmulates(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   string // "" writes no status file
		handlers map[string]string
		arch     string
		want     bool
	}{
		{"debian aarch64", "enabled", map[string]string{"qemu-aarch64": binfmtAarch64}, "arm64", true},
		{"aarch64 handler, amd64 asked", "enabled", map[string]string{"qemu-aarch64": binfmtAarch64}, "amd64", false},
		{"x86_64 handler", "enabled", map[string]string{"qemu-x86_64": binfmtX86_64}, "amd64", true},
		{"x86_64 handler, arm64 asked", "enabled", map[string]string{"qemu-x86_64": binfmtX86_64}, "arm64", false},
		{"interpreter name only", "enabled", map[string]string{"arm": binfmtByName}, "arm64", true},
		{"handler disabled", "enabled", map[string]string{"qemu-aarch64": "disabled" + binfmtAarch64[len("enabled"):]}, "arm64", false},
		{"binfmt_misc disabled", "disabled", map[string]string{"qemu-aarch64": binfmtAarch64}, "arm64", false},
		{"not mounted", "", nil, "arm64", false},
		{"other handlers only", "enabled", map[string]string{"jar": binfmtJava}, "arm64", false},
		{"unknown arch", "enabled", map[string]string{"qemu-aarch64": binfmtAarch64}, "riscv64", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.status != "" {
				writeFile(t, filepath.Join(dir, "status"), tc.status+"\n")
				writeFile(t, filepath.Join(dir, "register"), "")
			}
			for name, content := range tc.handlers {
				writeFile(t, filepath.Join(dir, name), content)
			}
			got, err := Emulates(dir, tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Emulates(%s) = %v, want %v", tc.arch, got, tc.want)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
