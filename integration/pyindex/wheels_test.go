package pyindex

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/elftest"

	"github.com/distill-build/distill/internal/testenv"
)

func TestWheelsFromTreeTags(t *testing.T) {
	meta := "Metadata-Version: 2.1\nName: MarkupSafe\nVersion: 3.0.2\n"
	for _, tc := range []struct {
		name    string
		modules map[string]string // path under dist-packages → content
		want    string            // wheel file; "" for an error
	}{
		{"pure", map[string]string{"markupsafe/__init__.py": ""}, "MarkupSafe-3.0.2-py3-none-any.whl"},
		{"amd64", map[string]string{"markupsafe/__init__.py": "", "markupsafe/_speedups.cpython-313-x86_64-linux-gnu.so": string(elftest.Header(elf.EM_X86_64, elf.ET_DYN))},
			"MarkupSafe-3.0.2-cp313-cp313-linux_x86_64.whl"},
		{"arm64", map[string]string{"markupsafe/__init__.py": "", "markupsafe/_speedups.cpython-313-aarch64-linux-gnu.so": string(elftest.Header(elf.EM_AARCH64, elf.ET_DYN))},
			"MarkupSafe-3.0.2-cp313-cp313-linux_aarch64.whl"},
		{"unknown machine", map[string]string{"markupsafe/_speedups.so": string(elftest.Header(elf.EM_RISCV, elf.ET_DYN))}, ""},
		{"two machines", map[string]string{"markupsafe/a.so": string(elftest.Header(elf.EM_X86_64, elf.ET_DYN)), "markupsafe/b.so": string(elftest.Header(elf.EM_AARCH64, elf.ET_DYN))}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dp := filepath.Join(root, distPackages)
			testenv.WriteFile(t, filepath.Join(dp, "MarkupSafe-3.0.2.dist-info", "METADATA"), meta)
			for p, body := range tc.modules {
				testenv.WriteFile(t, filepath.Join(dp, p), body)
			}
			out := t.TempDir()
			ws, err := WheelsFromTree(root, out)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("WheelsFromTree = %+v, want an error", ws)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != 1 || ws[0].File != tc.want {
				t.Fatalf("WheelsFromTree = %+v, want %s", ws, tc.want)
			}
			// The same tree again (another arch's pure package): same bytes, kept.
			if _, err := WheelsFromTree(root, out); err != nil {
				t.Errorf("writing the same wheel twice: %v", err)
			}
		})
	}
}

func TestWheelsFromTreeRefusesOtherBytes(t *testing.T) {
	out := t.TempDir()
	for _, body := range []string{"a = 1\n", "a = 2\n"} {
		root := t.TempDir()
		dp := filepath.Join(root, distPackages)
		testenv.WriteFile(t, filepath.Join(dp, "six-1.0.dist-info", "METADATA"), "Name: six\nVersion: 1.0\n")
		testenv.WriteFile(t, filepath.Join(dp, "six.py"), body)
		_, err := WheelsFromTree(root, out)
		if body == "a = 2\n" && (err == nil || !strings.Contains(err.Error(), "six-1.0-py3-none-any.whl")) {
			t.Errorf("a second, different six-1.0-py3-none-any.whl: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "six-1.0-py3-none-any.whl")); err != nil {
		t.Error(err)
	}
}

func TestSetsKey(t *testing.T) {
	pkgs := []string{"python3-flask", "flit"}
	legacy := sha256.Sum256([]byte(formatVersion + "\nflit\npython3-flask"))
	for _, tc := range []struct {
		name string
		sets []Set
		same bool // as the amd64-only key
	}{
		{"amd64 keeps its key", []Set{{"amd64", pkgs}}, true},
		{"arm64", []Set{{"arm64", pkgs}}, false},
		{"both", []Set{{"amd64", pkgs}, {"arm64", pkgs}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := setsKey(tc.sets) == hex.EncodeToString(legacy[:8]); got != tc.same {
				t.Errorf("setsKey(%v) same as the amd64 key: %v, want %v", tc.sets, got, tc.same)
			}
		})
	}
	if setsKey([]Set{{"amd64", pkgs}, {"arm64", pkgs}}) == setsKey([]Set{{"amd64", pkgs}, {"arm64", pkgs[:1]}}) {
		t.Error("the key does not depend on the arm64 packages")
	}
}
