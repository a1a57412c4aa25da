package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// wantMachine is the ELF machine of each platform's binaries.
var wantMachine = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// TestGoAppMultiPlatform builds the Go sample for linux/amd64 and
// linux/arm64 in one run, without emulation, into an OCI layout and a
// registry: one image index, each image's ELF files of its architecture; the
// arm64 binary answers HTTP under qemu-aarch64-static, the amd64 image in
// podman. The health checker (BP_HEALTHCHECK) is compiled for each platform too.
func TestGoAppMultiPlatform(t *testing.T) {
	testenv.Slow(t, "an integration test: builds for two platforms, runs both")
	harness.RequireTools(t)
	qemu := testenv.NeedCommand(t, "qemu-aarch64-static", "scripts/setup installs qemu-user-static")
	app := copyApp(t, "samples/go-mux")
	out := filepath.Join(t.TempDir(), "image")
	ref := harness.Registry(t) + "/distill-it/go-mux:multi"
	b := distill(t, app, "--platform", "linux/amd64,linux/arm64", "-o", "oci:"+out, "--publish", ref, "--env", "BP_HEALTHCHECK=true",
		"--cache-dir", filepath.Join(t.TempDir(), "cache")).must(t)
	t.Logf("build:\n%s", b.stdout)

	idx := layoutIndex(t, out)
	images := checkIndex(t, idx)
	t.Run("registry holds the same index", func(t *testing.T) {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		pushed, err := remote.Index(r)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := idx.Digest()
		if got, _ := pushed.Digest(); got != want {
			t.Errorf("registry index %s, layout index %s", got, want)
		}
	})
	t.Run("report shows each platform", func(t *testing.T) {
		checkPlatformReport(t, b.stdout, b.reportJSON, images)
	})
	binaries := map[string]string{}
	for arch, img := range images {
		dir := t.TempDir() // the test's, not the subtest's: the binary outlives it
		t.Run("ELF files are "+arch, func(t *testing.T) {
			elves := checkELFs(t, img, wantMachine[arch], dir)
			for _, p := range []string{"/layers/distill_go/app/bin/go-mux", "/layers/distill_health-check/health-check/bin/health-check"} {
				if elves[p] == "" {
					t.Errorf("the %s image has no %s", arch, p)
				}
			}
			binaries[arch] = elves["/layers/distill_go/app/bin/go-mux"]
		})
	}
	t.Run("arm64 binary answers under qemu", func(t *testing.T) {
		if binaries["arm64"] == "" {
			t.Fatal("no arm64 app binary")
		}
		body := serveWith(t, []string{qemu, binaries["arm64"]}, "/hello/distill")
		if !strings.Contains(body, "hello, distill") {
			t.Errorf("GET /hello/distill = %q", body)
		}
	})
	t.Run("amd64 image answers in podman", func(t *testing.T) {
		status, body := harness.Run(t, harness.LoadOCI(t, out)).WaitHTTP(t, "/hello/distill")
		if status != 200 || !strings.Contains(body, "hello, distill") {
			t.Fatalf("GET /hello/distill = %d %q", status, body)
		}
	})
}

// TestForeignPlatformRefusals: what distill cannot build for arm64 yet fails
// clearly, naming the reason and what to do, instead of shipping amd64 code.
func TestForeignPlatformRefusals(t *testing.T) {
	testenv.Slow(t, "an integration test: runs the Go buildpack for arm64")
	harness.RequireTools(t)
	cgoApp := filepath.Join(t.TempDir(), "cgo-app")
	for file, body := range map[string]string{
		"go.mod":  "module example.com/cgoapp\n\ngo 1.22\n",
		"main.go": "package main\n\n// int answer(void) { return 42; }\nimport \"C\"\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, C.answer()) })\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
	} {
		testenv.WriteFile(t, filepath.Join(cgoApp, file), body)
	}
	for _, tc := range []struct {
		name, app string
		args      []string
		want      []string
	}{
		{"cgo app", cgoApp, nil, []string{"example.com/cgoapp", "import \"C\" (cgo)", "linux/arm64", "CGO_ENABLED=0"}},
		{"CGO_ENABLED=1", copyApp(t, "samples/go-mux"), []string{"--env", "CGO_ENABLED=1"}, []string{"CGO_ENABLED=1 is set, but cgo cannot cross-compile for linux/arm64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--platform", "linux/arm64", "-o", "oci:" + filepath.Join(t.TempDir(), "image")}, tc.args...)
			b := distill(t, tc.app, args...)
			if b.err == nil {
				t.Fatalf("built for linux/arm64:\n%s", b.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.stderr, w) {
					t.Errorf("the error does not say %q:\n%s", w, b.stderr)
				}
			}
		})
	}
}

// layoutIndex is the one image index the OCI layout at dir names.
func layoutIndex(t *testing.T, dir string) v1.ImageIndex {
	t.Helper()
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].MediaType != types.OCIImageIndex {
		t.Fatalf("index.json lists %+v, want one OCI image index", m.Manifests)
	}
	idx, err := root.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// checkIndex checks idx holds a linux/amd64 and a linux/arm64/v8 image, in
// that order, whose configs say the same, and returns them by architecture.
func checkIndex(t *testing.T, idx v1.ImageIndex) map[string]v1.Image {
	t.Helper()
	if err := validate.Index(idx, validate.Fast); err != nil {
		t.Errorf("the index does not validate: %v", err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
	if len(m.Manifests) != len(want) {
		t.Fatalf("the index lists %d images, want %d", len(m.Manifests), len(want))
	}
	images := map[string]v1.Image{}
	for i, d := range m.Manifests {
		if d.Platform == nil || !d.Platform.Equals(want[i]) || d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("manifest %d: %s %v, want an OCI manifest for %s", i, d.MediaType, d.Platform, want[i])
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != want[i].OS || cf.Architecture != want[i].Architecture || cf.Variant != want[i].Variant {
			t.Errorf("%s image config says %s/%s/%s", want[i], cf.OS, cf.Architecture, cf.Variant)
		}
		images[want[i].Architecture] = img
	}
	return images
}

// checkPlatformReport checks the text report has a section per platform and
// the JSON report one entry per platform with the image's digest.
func checkPlatformReport(t *testing.T, stdout string, data []byte, images map[string]v1.Image) {
	t.Helper()
	for _, p := range []string{"PLATFORM linux/amd64\n", "PLATFORM linux/arm64/v8\n"} {
		if !strings.Contains(stdout, p) {
			t.Errorf("the text report has no section %q:\n%s", p, stdout)
		}
	}
	var rep struct {
		Platforms []struct {
			Platform string `json:"platform"`
			Digest   string `json:"digest"`
			Total    struct {
				Compressed int64 `json:"compressed"`
			} `json:"total"`
		} `json:"platforms"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Platforms) != 2 {
		t.Fatalf("JSON report lists %d platforms, want 2:\n%s", len(rep.Platforms), data)
	}
	for _, p := range rep.Platforms {
		arch := strings.Split(p.Platform, "/")[1]
		d, _ := images[arch].Digest()
		if p.Digest != d.String() || p.Total.Compressed <= 0 {
			t.Errorf("JSON report for %s: digest %s, %d bytes; the image is %s", p.Platform, p.Digest, p.Total.Compressed, d)
		}
		t.Logf("%s: %d bytes compressed", p.Platform, p.Total.Compressed)
	}
}

// checkELFs checks every ELF file of img is for machine and copies each into
// dir: it returns their paths there by path in the image.
func checkELFs(t *testing.T, img v1.Image, machine elf.Machine, dir string) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	saved := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			continue // not an ELF file
		}
		p := "/" + strings.TrimPrefix(h.Name, "/")
		if f.Machine != machine {
			t.Errorf("%s is %s, want %s", p, f.Machine, machine)
		}
		saved[p] = filepath.Join(dir, fmt.Sprint(len(saved)), filepath.Base(p))
		if err := os.MkdirAll(filepath.Dir(saved[p]), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(saved[p], data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d ELF files, all %s", len(saved), machine)
	return saved
}

// serveWith starts argv with PORT set to a free port, waits for GET path to
// answer 200 and returns the body; the process is stopped when the test ends.
func serveWith(t *testing.T, argv []string, path string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	deadline := time.Now().Add(harness.WaitTimeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return string(body)
			}
			t.Fatalf("GET %s = %d %q", url, resp.StatusCode, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer on %s within %s:\n%s", strings.Join(argv, " "), url, harness.WaitTimeout, logs.String())
	return ""
}

// extractImage writes img's files (its layers flattened) into a temporary
// directory and returns it. Absolute symbolic links are re-rooted there, so
// they resolve inside the image's files for a program run on the host.
func extractImage(t *testing.T, img v1.Image) string {
	t.Helper()
	root := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return root
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, filepath.Clean("/"+h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			var f *os.File
			if f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, h.FileInfo().Mode().Perm()|0o600); err == nil {
				_, err = io.Copy(f, tr)
				f.Close()
			}
		case tar.TypeSymlink:
			target := h.Linkname
			if filepath.IsAbs(target) {
				target = filepath.Join(root, target)
			}
			err = os.Symlink(target, p)
		case tar.TypeLink:
			err = os.Link(filepath.Join(root, filepath.Clean("/"+h.Linkname)), p)
		}
		if err != nil {
			t.Fatalf("extracting %s: %v", h.Name, err)
		}
	}
}
