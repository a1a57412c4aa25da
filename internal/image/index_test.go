package image

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// testIndex is an OCI index of two random images, linux/amd64 and linux/arm64.
func testIndex(t *testing.T) (v1.ImageIndex, map[string]v1.Hash) {
	t.Helper()
	digests := map[string]v1.Hash{}
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(256, 2)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digests[arch] = d
		mt, _ := img.MediaType()
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{MediaType: mt, Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...), digests
}

func TestWriteIndex(t *testing.T) {
	idx, digests := testIndex(t)
	want, _ := idx.Digest()
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer s.Close()
	ref, err := name.ParseReference(strings.TrimPrefix(s.URL, "http://") + "/app:latest")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	for _, target := range []IndexTarget{
		OCILayout(dir).(IndexTarget),
		Registry(ref, WithKeychain(authn.DefaultKeychain)).(IndexTarget),
	} {
		t.Run(target.String(), func(t *testing.T) {
			if err := target.WriteIndex(context.Background(), idx); err != nil {
				t.Fatal(err)
			}
			var got v1.ImageIndex
			if strings.HasPrefix(target.String(), "oci:") {
				root, err := layout.ImageIndexFromPath(dir)
				if err != nil {
					t.Fatal(err)
				}
				m, err := root.IndexManifest()
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Manifests) != 1 || m.Manifests[0].MediaType != types.OCIImageIndex || m.Manifests[0].Annotations[RefNameAnnotation] != "latest" {
					t.Fatalf("index.json lists %+v, want the one image index named latest", m.Manifests)
				}
				if got, err = root.ImageIndex(m.Manifests[0].Digest); err != nil {
					t.Fatal(err)
				}
			} else if got, err = remote.Index(ref); err != nil {
				t.Fatal(err)
			}
			if d, _ := got.Digest(); d != want {
				t.Errorf("index digest %s, want %s", d, want)
			}
			if err := validate.Index(got); err != nil {
				t.Errorf("written index does not validate: %v", err)
			}
		})
	}
	// Resolve picks each platform's image out of the layout.
	for arch, d := range digests {
		img, err := Resolve(context.Background(), "oci:"+dir, WithPlatform(v1.Platform{OS: "linux", Architecture: arch}))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := img.Digest(); got != d {
			t.Errorf("resolved %s image %s, want %s", arch, got, d)
		}
	}
	// A platform the index does not hold is an error that lists the ones it does.
	_, err = Resolve(context.Background(), "oci:"+dir, WithPlatform(v1.Platform{OS: "linux", Architecture: "s390x"}))
	if err == nil || !strings.Contains(err.Error(), "0 images for linux/s390x in an image index of linux/") {
		t.Errorf("resolving linux/s390x = %v, want an error listing the index's platforms", err)
	}
}
