package image

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// twoPlatforms are linux/amd64 and linux/arm64/v8 with a random image each.
func twoPlatforms(t *testing.T) ([]v1.Platform, []v1.Image) {
	t.Helper()
	platforms := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
	var imgs []v1.Image
	for range platforms {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	return platforms, imgs
}

func TestIndex(t *testing.T) {
	platforms, imgs := twoPlatforms(t)
	idx, err := Index(platforms, imgs)
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s, want %s", mt, types.OCIImageIndex)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 {
		t.Fatalf("%d manifests, want 2", len(m.Manifests))
	}
	for i, d := range m.Manifests {
		want, _ := imgs[i].Digest()
		if d.Digest != want || d.Platform == nil || !d.Platform.Equals(platforms[i]) {
			t.Errorf("manifest %d: %s %v, want %s %v", i, d.Digest, d.Platform, want, platforms[i])
		}
		if mt, _ := imgs[i].MediaType(); d.MediaType != mt {
			t.Errorf("manifest %d media type %s, want %s", i, d.MediaType, mt)
		}
	}
	if _, err := Index(platforms, imgs[:1]); err == nil {
		t.Error("Index with fewer images than platforms: no error")
	}
}

// TestWriteAll: one image is written as itself; several as their index to
// an IndexTarget (an OCI layout) and as the Main image to a target that
// holds one image (a docker archive).
func TestWriteAll(t *testing.T) {
	platforms, imgs := twoPlatforms(t)
	for _, tc := range []struct {
		name string
		n    int // images written
		main int
	}{{"one image", 1, 0}, {"index, main amd64", 2, 0}, {"index, main arm64", 2, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			layoutDir, archive := filepath.Join(dir, "oci"), filepath.Join(dir, "image.tar")
			p := PlatformImages{Platforms: platforms[:tc.n], Images: imgs[:tc.n], Main: tc.main, What: "image"}
			var log bytes.Buffer
			if err := p.WriteAll(t.Context(), []Target{OCILayout(layoutDir), DockerArchive(archive)}, &log); err != nil {
				t.Fatal(err)
			}
			root, err := layout.ImageIndexFromPath(layoutDir)
			if err != nil {
				t.Fatal(err)
			}
			m, err := root.IndexManifest()
			if err != nil || len(m.Manifests) != 1 {
				t.Fatalf("index.json: %v %+v", err, m)
			}
			want, _ := imgs[0].Digest()
			wantType, _ := imgs[0].MediaType()
			if tc.n > 1 {
				idx, _ := Index(platforms, imgs)
				want, _ = idx.Digest()
				wantType = types.OCIImageIndex
			}
			if m.Manifests[0].Digest != want || m.Manifests[0].MediaType != wantType {
				t.Errorf("the layout holds %s %s, want %s %s", m.Manifests[0].MediaType, m.Manifests[0].Digest, wantType, want)
			}
			got, err := tarball.ImageFromPath(archive, nil)
			if err != nil {
				t.Fatal(err)
			}
			gotCfg, _ := got.ConfigName()
			wantCfg, _ := imgs[tc.main].ConfigName()
			if gotCfg != wantCfg {
				t.Errorf("the docker archive holds config %s, want the main image's %s", gotCfg, wantCfg)
			}
			if !strings.Contains(log.String(), "Wrote image to oci:") {
				t.Errorf("log %q names no write", log.String())
			}
			if tc.n > 1 && !strings.Contains(log.String(), "(image index "+want.String()+": linux/amd64, linux/arm64/v8)") {
				t.Errorf("log %q names neither the index digest %s nor the platforms", log.String(), want)
			}
		})
	}
}
