package node

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// TestStripFor: where stripFor offers a strip for an architecture, it strips a Go binary built
// for it (smaller, still that machine's ELF file); where it does not, the host's strip indeed
// refuses that binary, and the reason names binutils-multiarch. Which case holds depends on the
// host's binutils: both are checked against the real tool.
func TestStripFor(t *testing.T) {
	testenv.Slow(t, "cross-compiles a Go program per architecture")
	goCmd, goCache := testenv.NeedGo(t)
	testenv.NeedCommand(t, "strip", "binutils")
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{"go.mod": "module hello\n\ngo 1.22\n", "main.go": "package main\n\nfunc main() { println(\"hello\") }\n"})
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			bin := filepath.Join(dir, "hello-"+arch)
			build := exec.Command(goCmd, "build", "-o", bin, ".")
			build.Dir = dir
			build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0", "GOCACHE="+goCache, "GOFLAGS=-mod=mod")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			stripBin, whyNot := stripFor(arch)
			out := bin + ".stripped"
			stripped := exec.Command("strip", "--strip-all", "-o", out, bin).Run() == nil
			if stripBin == "" {
				if stripped {
					t.Errorf("stripFor(%s) = none (%s), but the host's strip reads it", arch, whyNot)
				}
				if !strings.Contains(whyNot, "binutils-multiarch") {
					t.Errorf("reason %q does not say what strips linux/%s binaries", whyNot, arch)
				}
				return
			}
			if !stripped {
				t.Fatalf("stripFor(%s) = %s, which fails on a linux/%s binary", arch, stripBin, arch)
			}
			before, _ := os.Stat(bin)
			after, _ := os.Stat(out)
			if after.Size() >= before.Size() {
				t.Errorf("stripped %d bytes to %d", before.Size(), after.Size())
			}
		})
	}
	if p, why := stripFor("riscv64"); p != "" || why == "" {
		t.Errorf("stripFor(riscv64) = %q, %q: want none, with a reason", p, why)
	}
}
