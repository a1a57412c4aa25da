package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/internal/lifecycle"
)

func TestSize(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {99, "99 B"}, {1000, "1.0 kB"}, {4000, "4.0 kB"}, {50_000, "50.0 kB"},
		{99_999, "0.1 MB"}, {330_000, "0.3 MB"}, {2_600_000, "2.6 MB"}, {120_000_000, "120 MB"},
		{1_234_000_000, "1.2 GB"},
	} {
		if got := Size(tt.n); got != tt.want {
			t.Errorf("Size(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func sample() *Report {
	return &Report{
		Digest: "sha256:abc",
		Layers: []Layer{
			{Name: "run image  distill/run:static", Compressed: 330_000, Uncompressed: 2_300_000, Reused: true, Digests: []string{"sha256:1", "sha256:2"}},
			{Name: "distill/go:app", Compressed: 2_600_000, Uncompressed: 6_100_000, Digests: []string{"sha256:3"}},
			{Name: "app", Compressed: 1000, Uncompressed: 4000, Digests: []string{"sha256:4"}},
		},
		Duration: 3100 * time.Millisecond,
	}
}

func TestTotal(t *testing.T) {
	got := sample().Total()
	want := Layer{Name: "TOTAL", Compressed: 2_931_000, Uncompressed: 8_404_000, Reused: false,
		Digests: []string{"sha256:1", "sha256:2", "sha256:3", "sha256:4"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Total() = %+v, want %+v", got, want)
	}
	if got := (&Report{}).Total(); got.Compressed != 0 || got.Reused {
		t.Errorf("empty Total() = %+v", got)
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := sample().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := `LAYER                          COMPRESSED  UNCOMPRESSED  REUSED
run image  distill/run:static      0.3 MB        2.3 MB  yes
distill/go:app                     2.6 MB        6.1 MB  no
app                                1.0 kB        4.0 kB  no
TOTAL                              2.9 MB        8.4 MB
image sha256:abc · built in 3.1 s
`
	if got := buf.String(); got != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := sample().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var k []string
		for key := range m {
			k = append(k, key)
		}
		return k
	}
	for _, k := range []string{"digest", "layers", "total", "durationSeconds"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q: has %v", k, keys(got))
		}
	}
	layer := got["layers"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"name": "run image  distill/run:static", "compressed": 330000.0,
		"uncompressed": 2300000.0, "reused": true} {
		if layer[k] != want {
			t.Errorf("layers[0].%s = %v, want %v", k, layer[k], want)
		}
	}
	if total := got["total"].(map[string]any); total["compressed"] != 2931000.0 {
		t.Errorf("total.compressed = %v", total["compressed"])
	}
	if !strings.Contains(buf.String(), `"compressed": 330000,`) {
		t.Errorf("sizes are not plain integers:\n%s", buf.String())
	}
}

// unreadable is a layer that fails to decompress: the report must not need to.
type unreadable struct{ v1.Layer }

func (unreadable) Uncompressed() (io.ReadCloser, error) { return nil, errors.New("decompressed") }

// exported is an image of n unreadable layers and the exporter's description
// of them: layer i has ids[i], and uncompressed size 1000*(i+1).
func exported(t *testing.T, ids []lifecycle.LayerID, reused []bool) (v1.Image, []lifecycle.ExportedLayer) {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	var layers []lifecycle.ExportedLayer
	for i, id := range ids {
		l, err := random.Layer(int64(500*(i+1)), types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, unreadable{l}); err != nil {
			t.Fatal(err)
		}
		d, _ := l.Digest()
		diffID, _ := l.DiffID()
		size, _ := l.Size()
		layers = append(layers, lifecycle.ExportedLayer{ID: id, Digest: d, DiffID: diffID,
			Compressed: size, Uncompressed: int64(1000 * (i + 1)), Reused: reused[i]})
	}
	return img, layers
}

func TestNew(t *testing.T) {
	run := lifecycle.LayerID{Kind: lifecycle.RunImageLayer, RunImage: "distill/run:static"}
	app := lifecycle.LayerID{Kind: lifecycle.BuildpackLayer, Buildpack: "distill/go", Layer: "app"}
	sbom, ws := lifecycle.LayerID{Kind: lifecycle.SBOMLayer}, lifecycle.LayerID{Kind: lifecycle.AppLayer}
	type row struct {
		name         string
		layers       int
		uncompressed int64
		reused       bool
	}
	for _, tt := range []struct {
		name   string
		ids    []lifecycle.LayerID
		reused []bool
		want   []row
	}{
		{"empty", nil, nil, nil},
		{"run image collapsed", []lifecycle.LayerID{run, run, app, sbom, ws}, []bool{true, true, true, false, false},
			[]row{{"run image  distill/run:static", 2, 3000, true}, {"distill/go:app", 1, 3000, true}, {"sbom", 1, 4000, false}, {"app", 1, 5000, false}}},
		{"same name, reused differs", []lifecycle.LayerID{app, app}, []bool{true, false},
			[]row{{"distill/go:app", 1, 1000, true}, {"distill/go:app", 1, 2000, false}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			img, layers := exported(t, tt.ids, tt.reused)
			r, err := New(img, layers)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, l := range r.Layers {
				got = append(got, row{l.Name, len(l.Digests), l.Uncompressed, l.Reused})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows = %+v, want %+v", got, tt.want)
			}
			m, _ := img.Manifest()
			var sum int64
			for _, l := range m.Layers {
				sum += l.Size
			}
			if total := r.Total().Compressed; total != sum {
				t.Errorf("compressed total = %d, want the manifest's %d", total, sum)
			}
			if d, _ := img.Digest(); r.Digest != d.String() {
				t.Errorf("digest = %s, want %s", r.Digest, d)
			}
		})
	}
}

func TestNewMismatch(t *testing.T) {
	app := lifecycle.LayerID{Kind: lifecycle.AppLayer}
	img, layers := exported(t, []lifecycle.LayerID{app, app}, []bool{false, false})
	for _, tt := range []struct {
		name   string
		layers []lifecycle.ExportedLayer
	}{
		{"too few", layers[:1]},
		{"swapped", []lifecycle.ExportedLayer{layers[1], layers[0]}},
	} {
		if _, err := New(img, tt.layers); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
