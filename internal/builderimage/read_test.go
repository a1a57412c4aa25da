package builderimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// craftedBuilder is a builder image whose one buildpack layer holds hdrs
// (with bodies), labelled as pack labels a builder.
func craftedBuilder(t *testing.T, hdrs []*tar.Header, bodies map[string]string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		body := bodies[h.Name]
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	tw.Close()
	raw := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	diff, _ := l.DiffID()
	label := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Labels = map[string]string{
		LabelBuilderMetadata: label(BuilderMetadata{RunImages: []RunImageMetadata{{Image: "distill/run:base"}}}),
		LabelBuildpackOrder:  `[{"group":[{"id":"evil/bp","version":"1.0.0"}]}]`,
		LabelBuildpackLayers: label(ModuleLayers{"evil/bp": {"1.0.0": {LayerDiffID: diff.String()}}}),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestFromImageRefusesHostileLayers: a builder image's buildpack layer that
// aims outside the extraction directory is refused, naming the image, the
// layer and the entry, and nothing outside changes.
func TestFromImageRefusesHostileLayers(t *testing.T) {
	const bp = "cnb/buildpacks/evil_bp/1.0.0/"
	for _, tt := range []struct {
		name  string
		hdrs  func(sentinel string) []*tar.Header
		entry string
	}{
		{"symlink to a directory outside, then a file through it", func(s string) []*tar.Header {
			return []*tar.Header{
				{Name: "cnb/buildpacks/x", Typeflag: tar.TypeSymlink, Linkname: s},
				{Name: "cnb/buildpacks/x/evil", Typeflag: tar.TypeReg, Mode: 0o644},
			}
		}, "cnb/buildpacks/x"},
		{"relative symlink climbing out", func(string) []*tar.Header {
			return []*tar.Header{{Name: bp + "up", Typeflag: tar.TypeSymlink, Linkname: "../../../../../../sentinel"}}
		}, bp + "up"},
		{"dotdot name", func(string) []*tar.Header {
			return []*tar.Header{{Name: "cnb/buildpacks/../../../../sentinel/evil", Typeflag: tar.TypeReg, Mode: 0o644}}
		}, "cnb/buildpacks/../../../../sentinel/evil"},
		{"setuid buildpack binary", func(string) []*tar.Header {
			return []*tar.Header{{Name: bp + "bin/build", Typeflag: tar.TypeReg, Mode: 0o4755}}
		}, bp + "bin/build"},
		{"device node", func(string) []*tar.Header {
			return []*tar.Header{{Name: bp + "null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}}
		}, bp + "null"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			sentinel := filepath.Join(parent, "sentinel")
			os.MkdirAll(sentinel, 0o755)
			os.WriteFile(filepath.Join(sentinel, "keep"), []byte("k"), 0o644)
			img := craftedBuilder(t, tt.hdrs(sentinel), nil)
			cache := filepath.Join(parent, "cache")
			_, err := FromImage(t.Context(), "evil-builder", img, cache)
			if err == nil {
				t.Fatal("read a hostile builder image")
			}
			for _, want := range []string{"builder image evil-builder: ", "extracting layer sha256:", `entry "` + tt.entry + `"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if entries, _ := os.ReadDir(sentinel); len(entries) != 1 {
				t.Errorf("sentinel holds %d entries, want 1", len(entries))
			}
			if entries, _ := os.ReadDir(cache); len(entries) != 0 {
				t.Errorf("a failed read left %d entries in the cache", len(entries))
			}
		})
	}
}
