package builderimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"

	"github.com/distill-build/distill/internal/elftest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/distill-build/distill/internal/builder"
)

// lifecycleTarball writes a lifecycle tarball whose lifecycle/lifecycle is
// body (nil for none) and returns its path.
func lifecycleTarball(t *testing.T, body []byte) string {
	t.Helper()
	files := []testenv.TarFile{{Name: "lifecycle.toml", Body: []byte("[lifecycle]\nversion = \"0.20.11\"\n")}}
	if body != nil {
		files = append(files, testenv.TarFile{Name: "lifecycle/lifecycle", Body: body})
	}
	p := filepath.Join(t.TempDir(), "lifecycle.tgz")
	testenv.WriteTarGz(t, p, files...)
	return p
}

func TestCheckELF(t *testing.T) {
	exe, err := os.Executable() // this test binary: the running arch
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	arm := filepath.Join(dir, "arm64")
	amd := filepath.Join(dir, "amd64")
	text := filepath.Join(dir, "script")
	os.WriteFile(arm, elftest.Header(elf.EM_AARCH64, elf.ET_EXEC), 0o755)
	os.WriteFile(amd, elftest.Header(elf.EM_X86_64, elf.ET_EXEC), 0o755)
	os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755)
	for _, tc := range []struct {
		path, arch, wantErr string
	}{
		{exe, runtime.GOARCH, ""},
		{arm, "arm64", ""},
		{amd, "amd64", ""},
		{arm, "amd64", "is for EM_AARCH64, not linux/amd64"},
		{amd, "arm64", "is for EM_X86_64, not linux/arm64"},
		{text, "arm64", "not an ELF executable"},
		{filepath.Join(dir, "missing"), "arm64", "no such file"},
		{arm, "riscv64", "no ELF machine known"},
	} {
		err := CheckELF(tc.path, tc.arch, "--binary linux/"+tc.arch)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CheckELF(%s, %s) = %v, want error containing %q", filepath.Base(tc.path), tc.arch, err, tc.wantErr)
		}
	}
}

func TestCheckLifecycleArch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    []byte
		arch    string
		wantErr string
	}{
		{"arm64 lifecycle", elftest.Header(elf.EM_AARCH64, elf.ET_EXEC), "arm64", ""},
		{"amd64 lifecycle", elftest.Header(elf.EM_X86_64, elf.ET_EXEC), "amd64", ""},
		{"amd64 lifecycle for arm64", elftest.Header(elf.EM_X86_64, elf.ET_EXEC), "arm64", "is for EM_X86_64, not linux/arm64"},
		{"no executable", nil, "arm64", "no lifecycle/lifecycle"},
		{"not ELF", []byte("binary"), "amd64", "not an ELF executable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc, err := ReadLifecycle(lifecycleTarball(t, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			err = checkLifecycleArch(t.Context(), lc, tc.arch)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("checkLifecycleArch(%s) = %v, want error containing %q", tc.arch, err, tc.wantErr)
			}
		})
	}
}

// TestCreateWithBinary: a builder for another arch carries that arch's
// binary as the bin/ of the modules it runs, and leaves the loaded module
// (the host's binary) untouched; the others keep their own bin/.
func TestCreateWithBinary(t *testing.T) {
	p := fixtureBuilder(t)
	lc := lifecycleTarball(t, elftest.Header(elf.EM_AARCH64, elf.ET_EXEC))
	b, err := builder.Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	armBin := filepath.Join(t.TempDir(), "distill-arm64")
	os.WriteFile(armBin, elftest.Header(elf.EM_AARCH64, elf.ET_EXEC), 0o755)
	bin := &builder.Binary{Path: armBin, Runs: func(id string) bool { return id == "test/bp" }}
	img, err := Create(t.Context(), b, buildImage(t), CreateOptions{Lifecycle: lc, Arch: "arm64", Binary: bin, Staging: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	content := fileContents(t, img)
	if got := content["cnb/buildpacks/test_bp/1.2.3/bin/build"]; !bytes.Equal(got, elftest.Header(elf.EM_AARCH64, elf.ET_EXEC)) {
		t.Errorf("test/bp bin/build is %q, want the arm64 binary", got)
	}
	if got := string(content["cnb/extensions/test_ext/0.1.0/bin/generate"]); got != "#!/bin/sh\n" {
		t.Errorf("test/ext bin/generate is %q, want its own", got)
	}
	if src, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "bp", "bin", "build")); string(src) != "#!/bin/sh\n" {
		t.Errorf("the loaded module's bin/build changed to %q", src)
	}
	if _, err := Create(t.Context(), b, buildImage(t), CreateOptions{Lifecycle: lc, Arch: "amd64", Staging: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "not linux/amd64") {
		t.Errorf("an arm64 lifecycle for an amd64 builder: error %v", err)
	}
}

// fileContents maps the regular files of img's filesystem to their contents.
func fileContents(t *testing.T, img v1.Image) map[string][]byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err != nil {
			return out
		}
		if hdr.Typeflag == tar.TypeReg {
			var buf bytes.Buffer
			buf.ReadFrom(tr)
			out[strings.TrimPrefix(hdr.Name, "/")] = buf.Bytes()
		}
	}
}
