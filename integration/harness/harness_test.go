package harness

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/internal/testenv"
)

// TestEndToEnd proves podman + runc work on this machine: a static Go HTTP
// server in a one-layer OCI image, written as an OCI layout, loaded into
// podman, run with $PORT, answers 200.
func TestEndToEnd(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	RequireTools(t)
	img := StaticImage(t, HelloServer(t))
	if ok, err := isOCI(img); err != nil || !ok {
		t.Fatalf("StaticImage is not OCI-typed (err %v)", err)
	}
	dir := WriteLayout(t, img)

	want := []string{"/server", "/tmp"}
	if got := Files(t, dir); !slices.Equal(got, want) {
		t.Errorf("Files(layout) = %q, want %q", got, want)
	}

	ref := LoadOCI(t, dir)
	if !strings.HasPrefix(ref, "localhost/distill-test/testendtoend:") {
		t.Errorf("LoadOCI ref = %q", ref)
	}
	cfg := ImageConfig(t, ref)
	if cfg.User != "1000:1000" || !slices.Equal(cfg.Entrypoint, []string{"/server"}) || cfg.Getenv("PATH") != "/" {
		t.Errorf("ImageConfig = %+v", cfg)
	}
	if got := Files(t, ref); !slices.Equal(got, want) {
		t.Errorf("Files(ref) = %q, want %q", got, want)
	}

	c := Run(t, ref, WithEnv("GREETING", "hi"))
	status, body := c.WaitHTTP(t, "/healthz")
	if status != 200 || body != "hello from /healthz as uid 1000\n" {
		t.Errorf("GET /healthz = %d %q", status, body)
	}
	if !c.Running(t) {
		t.Error("container stopped after answering")
	}
	if logs := c.Logs(t); !strings.Contains(logs, "listening on :") {
		t.Errorf("logs = %q", logs)
	}
}

func TestRepoName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"TestEndToEnd", "testendtoend"},
		{"TestBuild/go_mod/with spaces", "testbuild-go-mod-with-spaces"},
		{"__x__", "x"},
		{"", "image"},
		{"###", "image"},
		{strings.Repeat("ab/", 40), strings.TrimRight(strings.Repeat("ab-", 20), "-")},
	} {
		if got := repoName(tc.in); got != tc.want {
			t.Errorf("repoName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"./usr/bin/", "/usr/bin"},
		{"usr/bin", "/usr/bin"},
		{"/usr/bin", "/usr/bin"},
		{"./", "/"},
		{"a/../b", "/b"},
	} {
		if got := cleanPath(tc.in); got != tc.want {
			t.Errorf("cleanPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseImageInspect(t *testing.T) {
	out := `[{"Id":"abc","Os":"linux","Architecture":"amd64","Config":{"User":"cnb","Env":["PATH=/cnb/process:/usr/bin","PORT=8080","EMPTY="],"Entrypoint":["/cnb/process/web"],"WorkingDir":"/workspace","Labels":{"io.buildpacks.stack.id":"distill"}}}]`
	cfg, err := parseImageInspect([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "cnb" || cfg.WorkingDir != "/workspace" || cfg.OS != "linux" || cfg.Architecture != "amd64" ||
		!slices.Equal(cfg.Entrypoint, []string{"/cnb/process/web"}) || cfg.Labels["io.buildpacks.stack.id"] != "distill" {
		t.Errorf("parsed %+v", cfg)
	}
	for _, tc := range []struct {
		key, want string
		set       bool
	}{
		{"PORT", "8080", true},
		{"PATH", "/cnb/process:/usr/bin", true},
		{"EMPTY", "", true},
		{"MISSING", "", false},
	} {
		if got, ok := cfg.LookupEnv(tc.key); got != tc.want || ok != tc.set {
			t.Errorf("LookupEnv(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.set)
		}
	}
	for _, bad := range []string{`[]`, `[{},{}]`, `{`} {
		if _, err := parseImageInspect([]byte(bad)); err == nil {
			t.Errorf("parseImageInspect(%s): no error", bad)
		}
	}
}

// tarLayer is an OCI layer holding the given entries ("dir/" for directories,
// "name -> target" for symlinks, anything else a small file).
func tarLayer(t *testing.T, names ...string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Uid: 1000, Gid: 1000}
		var body []byte
		switch {
		case strings.HasSuffix(n, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case strings.Contains(n, " -> "):
			h.Name, h.Linkname, _ = strings.Cut(n, " -> ")
			h.Typeflag, h.Mode = tar.TypeSymlink, 0o777
		default:
			body = []byte(n)
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestFilesOfLayout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers [][]string
		want   []string
	}{
		{"one layer", [][]string{{"./usr/", "./usr/bin/", "./usr/bin/app", "etc/passwd"}},
			[]string{"/etc/passwd", "/usr", "/usr/bin", "/usr/bin/app"}},
		{"whiteout removes a file", [][]string{{"a/", "a/x", "a/y", "b"}, {"a/.wh.x", "c"}},
			[]string{"/a", "/a/y", "/b", "/c"}},
		{"opaque directory hides lower contents", [][]string{{"a/", "a/x", "a/y"}, {"a/", "a/.wh..wh..opq", "a/z"}},
			[]string{"/a", "/a/z"}},
		{"upper layer replaces a file with a symlink", [][]string{{"bin/", "bin/sh"}, {"bin/sh -> busybox"}},
			[]string{"/bin", "/bin/sh"}},
		{"empty image", nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
			img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
			for _, names := range tc.layers {
				var err error
				img, err = mutate.AppendLayers(img, tarLayer(t, names...))
				if err != nil {
					t.Fatal(err)
				}
			}
			got := Files(t, WriteLayout(t, img))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Files = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEntries(t *testing.T) {
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		tarLayer(t, "bin/", "bin/app", "bin/sh -> app"))
	if err != nil {
		t.Fatal(err)
	}
	e := Entries(t, WriteLayout(t, img))
	want := map[string]Entry{
		"/bin":     {Path: "/bin", Type: tar.TypeDir, Mode: 0o755, UID: 1000, GID: 1000},
		"/bin/app": {Path: "/bin/app", Type: tar.TypeReg, Mode: 0o644, Size: 7, UID: 1000, GID: 1000},
		"/bin/sh":  {Path: "/bin/sh", Type: tar.TypeSymlink, Mode: 0o777, Linkname: "app", UID: 1000, GID: 1000},
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("Entries = %+v\nwant %+v", e, want)
	}
	if !e["/bin"].IsDir() || !e["/bin/app"].IsRegular() || !e["/bin/sh"].IsSymlink() {
		t.Error("Entry type predicates disagree")
	}
}

func TestLayoutImageChoice(t *testing.T) {
	mk := func(file string) v1.Image {
		img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), tarLayer(t, file))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	amd64, arm64 := mk("amd64"), mk("arm64")
	for _, tc := range []struct {
		name    string
		images  []v1.Image
		plats   []*v1.Platform
		want    string // the file the chosen image holds, or "" for an error
		wantErr string
	}{
		{"no image", nil, nil, "", "holds no image"},
		{"one image, no platform", []v1.Image{amd64}, []*v1.Platform{nil}, "/amd64", ""},
		{"two images, no platforms", []v1.Image{amd64, arm64}, []*v1.Platform{nil, nil}, "", "cannot tell"},
		{"two platforms", []v1.Image{arm64, amd64},
			[]*v1.Platform{{OS: "linux", Architecture: "arm64"}, {OS: "linux", Architecture: "amd64"}}, "/amd64", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := layout.Write(dir, empty.Index)
			if err != nil {
				t.Fatal(err)
			}
			for i, img := range tc.images {
				var opts []layout.Option
				if tc.plats[i] != nil {
					opts = append(opts, layout.WithPlatform(*tc.plats[i]))
				}
				if err := p.AppendImage(img, opts...); err != nil {
					t.Fatal(err)
				}
			}
			img, err := layoutImage(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			entries, err := flatten(img)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := entries[tc.want]; !ok || len(entries) != 1 {
				t.Errorf("chose the image holding %v, want %s", entries, tc.want)
			}
		})
	}
}

// fakeTB records how a helper gave up on a test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, sprintf(format, args...)
	runtime.Goexit()
}

func TestUnavailableSkipsOrFails(t *testing.T) {
	for _, tc := range []struct {
		ci           string
		skip, fail   bool
		msgSubstring string
	}{
		{"", true, false, "skipping: podman is missing"},
		{"false", true, false, "skipping:"},
		{"true", false, true, "CI=true"},
		{"1", false, true, "CI=true"},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			f := &fakeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				unavailable(f, "podman is missing")
			}()
			<-done
			if f.skipped != tc.skip || f.failed != tc.fail || !strings.Contains(f.msg, tc.msgSubstring) {
				t.Errorf("skipped %v, failed %v, msg %q", f.skipped, f.failed, f.msg)
			}
		})
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// isOCI reports whether an image uses OCI media types for its manifest and config.
func isOCI(img v1.Image) (bool, error) {
	mt, err := img.MediaType()
	if err != nil {
		return false, err
	}
	m, err := img.Manifest()
	if err != nil {
		return false, err
	}
	return mt == types.OCIManifestSchema1 && m.Config.MediaType == types.OCIConfigJSON, nil
}
