package image

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		wantErr  bool
	}{
		{in: "oci:out/app", want: "oci:out/app"},
		{in: "./out/app", want: "oci:./out/app"},
		{in: "out", want: "oci:out"},
		{in: "docker-archive:app.tar", want: "docker-archive:app.tar"},
		{in: "registry:example.com/app:1", want: "registry:example.com/app:1"},
		{in: "daemon:myapp", want: "daemon:myapp"},
		{in: "oci:", wantErr: true},
		{in: "ftp:x", wantErr: true},
		{in: "daemon:UPPER", wantErr: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTarget(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Errorf("ParseTarget(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// readOnlyImage reads the only image of the layout at dir and validates it.
func readOnlyImage(t *testing.T, dir string) (v1.Image, v1.Descriptor) {
	t.Helper()
	ii, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("layout has %d manifests, want 1", len(m.Manifests))
	}
	img, err := ii.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("invalid image in %s: %v", dir, err)
	}
	return img, m.Manifests[0]
}

func TestOCILayout(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "out", "app")
	first := randomImage(t, 2)
	if err := OCILayout(dir, WithRefName("app:1")).Write(ctx, first); err != nil {
		t.Fatal(err)
	}
	img, desc := readOnlyImage(t, dir)
	if got, want := mustDigest(t, img), mustDigest(t, first); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
	if got := desc.Annotations[RefNameAnnotation]; got != "app:1" {
		t.Errorf("ref name = %q, want app:1", got)
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", p, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A failing write leaves the first image in place, and no temporary files.
	err = OCILayout(dir).Write(ctx, brokenImage(t))
	if !errors.Is(err, errBroken) {
		t.Fatalf("writing a broken image: error = %v, want %v", err, errBroken)
	}
	img, _ = readOnlyImage(t, dir)
	if got, want := mustDigest(t, img), mustDigest(t, first); got != want {
		t.Errorf("after a failed write: digest = %s, want %s", got, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("after a failed write, %s holds %d entries, want 1", filepath.Dir(dir), len(entries))
	}

	// A canceled write too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := OCILayout(dir).Write(cctx, randomImage(t, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled write: error = %v, want context.Canceled", err)
	}
	readOnlyImage(t, dir)

	// A second good write replaces the image, keeping blobs it shares.
	second := imageOf(t, tarLayer(t, file("a", "b")))
	if err := OCILayout(dir).Write(ctx, second); err != nil {
		t.Fatal(err)
	}
	img, _ = readOnlyImage(t, dir)
	if got, want := mustDigest(t, img), mustDigest(t, second); got != want {
		t.Errorf("after replacing: digest = %s, want %s", got, want)
	}
	blobs, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if len(blobs) != 3 {
		t.Errorf("after replacing: %d blobs, want 3 (old blobs gone)", len(blobs))
	}
	entries, _ = os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("after replacing, %s holds %d entries, want 1", filepath.Dir(dir), len(entries))
	}
}

func TestOCILayoutRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := OCILayout(dir).Write(context.Background(), randomImage(t, 1))
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("writing over a foreign directory: error = %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Fatal(err)
	}
}

func TestDockerArchive(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "app.tar")
	first := randomImage(t, 2)
	if err := DockerArchive(p, WithRefName("example.com/app:1")).Write(ctx, first); err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		tag, _ := name.NewTag("example.com/app:1")
		img, err := tarball.ImageFromPath(p, &tag)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := img.ConfigName()
		want, _ := first.ConfigName()
		if got != want {
			t.Errorf("config = %s, want %s", got, want)
		}
	}
	check()
	if err := DockerArchive(p).Write(ctx, brokenImage(t)); !errors.Is(err, errBroken) {
		t.Fatalf("writing a broken image: error = %v, want %v", err, errBroken)
	}
	check()
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 1 {
		t.Errorf("after a failed write: %d files, want 1", len(entries))
	}
}

func TestRegistryTargetAndResolve(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/distill/app:1")
	if err != nil {
		t.Fatal(err)
	}
	img := randomImage(t, 2)
	if err := Registry(ref, WithKeychain(authn.NewMultiKeychain())).Write(ctx, img); err != nil {
		t.Fatal(err)
	}
	got, err := Resolve(ctx, ref.String(), WithSources(FromRegistry))
	if err != nil {
		t.Fatal(err)
	}
	if mustDigest(t, got) != mustDigest(t, img) {
		t.Errorf("resolved %s, want %s", mustDigest(t, got), mustDigest(t, img))
	}
	_, err = Resolve(ctx, ref.Context().Tag("missing").String(), WithSources(FromRegistry))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("resolving a missing tag: error = %v, want ErrNotFound", err)
	}
}
