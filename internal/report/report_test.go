package report

import (
	"bytes"
	"encoding/json"
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

func TestNew(t *testing.T) {
	run, err := random.Image(2000, 2)
	if err != nil {
		t.Fatal(err)
	}
	img := mutate.MediaType(run, types.OCIManifestSchema1)
	var appLayers []v1.Layer
	for range 2 {
		l, err := random.Layer(5000, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		appLayers = append(appLayers, l)
	}
	img, err = mutate.AppendLayers(img, appLayers...)
	if err != nil {
		t.Fatal(err)
	}
	infos := append(RunImage("distill/run:static", 2),
		LayerInfo{Name: "distill/go:app"},
		LayerInfo{Name: "app", Uncompressed: 12345}) // known: not re-read
	r, err := New(img, infos)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 3 {
		t.Fatalf("%d rows, want 3 (run image collapsed): %+v", len(r.Layers), r.Layers)
	}
	m, _ := img.Manifest()
	var sum int64
	for _, l := range m.Layers {
		sum += l.Size
	}
	if got := r.Total().Compressed; got != sum {
		t.Errorf("compressed total = %d, want the manifest's %d", got, sum)
	}
	if r.Layers[0].Compressed != m.Layers[0].Size+m.Layers[1].Size || len(r.Layers[0].Digests) != 2 || !r.Layers[0].Reused {
		t.Errorf("run image row = %+v", r.Layers[0])
	}
	l, _ := img.LayerByDigest(m.Layers[2].Digest)
	rc, _ := l.Uncompressed()
	n, _ := io.Copy(io.Discard, rc)
	if r.Layers[1].Uncompressed != n {
		t.Errorf("counted uncompressed = %d, want %d", r.Layers[1].Uncompressed, n)
	}
	if r.Layers[2].Uncompressed != 12345 {
		t.Errorf("given uncompressed = %d, want 12345", r.Layers[2].Uncompressed)
	}
	if d, _ := img.Digest(); r.Digest != d.String() {
		t.Errorf("digest = %s, want %s", r.Digest, d)
	}
	if _, err := New(img, infos[:1]); err == nil {
		t.Error("New with too few names: no error")
	}
	if _, err := New(empty.Image, nil); err != nil {
		t.Errorf("New(empty): %v", err)
	}
}
