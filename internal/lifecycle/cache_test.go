package lifecycle

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/buildpack"
)

func writeLayer(t *testing.T, dir, name string, types buildpack.LayerTypes, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := buildpack.WriteLayerMetadata(dir, name, buildpack.LayerMetadata{Types: types}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name, "data"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCacheRoundTrip(t *testing.T) {
	desc := &buildpack.Descriptor{Buildpack: buildpack.Info{ID: "distill/go", Version: "1"}}
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}

	// First build: one cached layer, one launch-only layer.
	layers := filepath.Join(t.TempDir(), "layers", "distill_go")
	writeLayer(t, layers, "go-mod", buildpack.LayerTypes{Cache: true}, "modules v1")
	writeLayer(t, layers, "app", buildpack.LayerTypes{Launch: true}, "binary")
	writeLayer(t, layers, "venv", buildpack.LayerTypes{Launch: true, Cache: true}, "packages")
	if err := os.WriteFile(filepath.Join(layers, "venv.sbom.cdx.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	ls, err := buildpack.ReadLayers(layers)
	if err != nil {
		t.Fatal(err)
	}
	res := &BuildResult{Buildpacks: []BuildpackResult{{Desc: desc, Dir: layers, Layers: ls}}}
	appLayer := ExportedLayer{ID: LayerID{Kind: BuildpackLayer, Buildpack: "distill/go", Layer: "app"}, DiffID: hash("1")}
	runLayer := ExportedLayer{ID: LayerID{Kind: RunImageLayer, RunImage: "distill/run:base"}, DiffID: hash("2"), Reused: true}
	kept := []string{hash("1").Hex + ".tar.zstd", hash("1").Hex + ".tar.zstd.json", hash("2").Hex + ".tar.json"}
	if err := os.MkdirAll(cache.blobDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(kept, hash("3").Hex+".tar.zstd") {
		if err := os.WriteFile(filepath.Join(cache.blobDir(), name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := cache.Save(res, []ExportedLayer{runLayer, appLayer}); err != nil {
		t.Fatal(err)
	}
	if got := cache.previous(); len(got) != 1 || got["distill/go:app"] != hash("1").String() {
		t.Fatalf("previous diff IDs = %v, want distill/go:app only", got)
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(cache.blobDir(), name)); err != nil {
			t.Errorf("blob file of an exported layer not kept: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(cache.blobDir(), hash("3").Hex+".tar.zstd")); err == nil {
		t.Error("a blob no layer of this build uses was kept")
	}

	// Second build restores the cached layer only.
	build := filepath.Join(t.TempDir(), "layers")
	names, err := cache.Restore([]*buildpack.Descriptor{desc}, build, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "distill/go:go-mod" || names[1] != "distill/go:venv" {
		t.Fatalf("restored %v", names)
	}
	if _, err := os.Stat(filepath.Join(build, "distill_go", "venv.sbom.cdx.json")); err != nil {
		t.Errorf("the SBOM of a cached layer was not restored: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(build, "distill_go", "go-mod", "data")); err != nil || string(b) != "modules v1" {
		t.Fatalf("restored content %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(build, "distill_go", "app")); err == nil {
		t.Fatal("a launch-only layer was restored")
	}

	// The build fails: the layer goes back, and a third build finds it again.
	cache.Return()
	names, err = cache.Restore([]*buildpack.Descriptor{desc}, filepath.Join(t.TempDir(), "layers"), io.Discard)
	if err != nil || len(names) != 2 {
		t.Fatalf("after Return: %v, %v", names, err)
	}
}

func hash(s string) v1.Hash {
	h, _, _ := v1.SHA256(strings.NewReader(s))
	return h
}

func TestLayerIDKey(t *testing.T) {
	for _, tt := range []struct {
		id   LayerID
		want string
	}{
		{LayerID{Kind: BuildpackLayer, Buildpack: "distill/go", Layer: "app"}, "distill/go:app"},
		{LayerID{Kind: SBOMLayer}, "sbom"},
		{LayerID{Kind: AppLayer}, "app"},
		{LayerID{Kind: RunImageLayer, RunImage: "distill/run:base"}, "run-image distill/run:base"},
	} {
		if got := tt.id.Key(); got != tt.want {
			t.Errorf("%+v.Key() = %q, want %q", tt.id, got, tt.want)
		}
	}
}
