package image

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestRecompressed(t *testing.T) {
	gz := tarLayer(t, dir("etc/"), file("etc/os-release", "ID=debian\n"))
	run, err := mutate.Config(imageOf(t, gz), v1.Config{Env: []string{"CNB_USER_ID=1000"}, Labels: map[string]string{"io.buildpacks.stack.id": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		c        Compression
		wantType types.MediaType
		same     bool // the image comes back unchanged
	}{
		{"gzip run image as zstd", Zstd, types.OCILayerZStd, false},
		{"already gzip", Gzip, types.OCILayer, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blobs := t.TempDir()
			got, err := Recompressed(run, tt.c, blobs)
			if err != nil {
				t.Fatal(err)
			}
			if (got == run) != tt.same {
				t.Errorf("image unchanged = %v, want %v", got == run, tt.same)
			}
			layers, err := got.Layers()
			if err != nil || len(layers) != 1 {
				t.Fatalf("layers: %v, %v", layers, err)
			}
			if mt, _ := layers[0].MediaType(); mt != tt.wantType {
				t.Errorf("media type %s, want %s", mt, tt.wantType)
			}
			wantDiff, _ := gz.DiffID()
			if d, _ := layers[0].DiffID(); d != wantDiff {
				t.Errorf("diff ID %s, want %s (unchanged)", d, wantDiff)
			}
			want, _ := run.ConfigFile()
			have, _ := got.ConfigFile()
			if have.Config.Env[0] != want.Config.Env[0] || have.Config.Labels["io.buildpacks.stack.id"] != "x" || have.RootFS.DiffIDs[0] != wantDiff {
				t.Errorf("config changed: %+v", have)
			}
			if tt.same {
				return
			}
			// A second pass reads the kept blob: the source layer is never opened again.
			again, err := Recompressed(imageOf(t, sealed{gz}), tt.c, blobs)
			if err != nil {
				t.Fatalf("second pass: %v", err)
			}
			if mustDigest(t, again) == (v1.Hash{}) {
				t.Error("no digest")
			}
			kept, _ := filepath.Glob(filepath.Join(blobs, "*.tar.zstd"))
			if len(kept) != 1 {
				t.Errorf("kept blobs %v, want one", kept)
			}
		})
	}
}

func TestRecompressedUnreadableLayer(t *testing.T) {
	blobs := t.TempDir()
	gz := tarLayer(t, file("etc/os-release", "ID=debian\n"))
	if _, err := Recompressed(imageOf(t, sealed{gz}), Zstd, blobs); err == nil {
		t.Fatal("an unreadable layer recompressed")
	}
	left, _ := os.ReadDir(blobs)
	for _, e := range left {
		if filepath.Ext(e.Name()) == ".tar" {
			t.Errorf("a partial tar was left behind: %s", e.Name())
		}
	}
}

// sealed is a layer whose bytes cannot be read: only its digests and media type can.
type sealed struct{ v1.Layer }

func (sealed) Uncompressed() (io.ReadCloser, error) { return nil, errors.New("read the layer again") }
func (sealed) Compressed() (io.ReadCloser, error)   { return nil, errors.New("read the layer again") }
