package report

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// tarLayer is a gzip layer of regular files (path → size in bytes) of
// incompressible-looking content, so compressed sizes differ per layer.
func tarLayer(t *testing.T, files map[string]int) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seed := byte(len(files))
	for name, size := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		data := make([]byte, size)
		for i := range data {
			seed = seed*113 + 71
			data[i] = seed
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// imageAndReport is an image of three layers (the first two one "run image"
// row) and its report, with sizes read from the layers.
func imageAndReport(t *testing.T) (v1.Image, *Report) {
	t.Helper()
	layers := []v1.Layer{
		tarLayer(t, map[string]int{"etc/passwd": 300, "usr/lib/x86_64-linux-gnu/libc.so.6": 90_000, "usr/lib/x86_64-linux-gnu/libm.so.6": 30_000}),
		tarLayer(t, map[string]int{"usr/share/zoneinfo/UTC": 120, "etc/ssl/certs/ca-certificates.crt": 20_000}),
		tarLayer(t, map[string]int{"layers/distill_go/app/bin/go-mux": 250_000, "layers/distill_go/app/templates/index.html": 800}),
		tarLayer(t, map[string]int{"workspace/templates/index.html": 800}),
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		name   string
		layers []v1.Layer
	}{
		{"run image  distill/run:static", layers[:2]},
		{"distill/go:app", layers[2:3]},
		{"app", layers[3:]},
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	rep := &Report{Digest: d.String()}
	for _, r := range rows {
		row := Layer{Name: r.name, Reused: true}
		for _, l := range r.layers {
			c, _ := l.Size()
			u, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, u)
			if err != nil {
				t.Fatal(err)
			}
			u.Close()
			digest, _ := l.Digest()
			row.Compressed += c
			row.Uncompressed += n
			row.Digests = append(row.Digests, digest.String())
		}
		rep.Layers = append(rep.Layers, row)
	}
	return img, rep
}

var (
	layerRectRE = regexp.MustCompile(`<rect data-layer-row="(\d+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"`)
	rowRE       = regexp.MustCompile(`<tr data-row="(\d+)" data-name="([^"]*)" data-compressed="(\d+)" data-uncompressed="(\d+)">`)
	fetchRE     = regexp.MustCompile(`(?i)(src=|href=|url\(|@import|<link|https?://[^"]*"(?:[^>]*)>)`)
)

// TestWriteHTML: the page is self-contained, lists every row with the
// report's exact numbers, and each row's rectangle has the row's share of
// the map's area.
func TestWriteHTML(t *testing.T) {
	img, rep := imageAndReport(t)
	var buf bytes.Buffer
	if err := rep.WriteHTML(context.Background(), &buf, img, HTMLOptions{Title: "go-mux", Reuse: true}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if p := filepath.Join(t.ArtifactDir(), "report.html"); os.WriteFile(p, buf.Bytes(), 0o644) == nil {
		t.Logf("page: %s", p)
	}
	for _, m := range fetchRE.FindAllString(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), -1) {
		t.Errorf("the page would fetch something: %q", m)
	}
	rows := rowRE.FindAllStringSubmatch(page, -1)
	if len(rows) != len(rep.Layers) {
		t.Fatalf("%d table rows, want %d", len(rows), len(rep.Layers))
	}
	for i, m := range rows {
		l := rep.Layers[i]
		if m[2] != l.Name || m[3] != strconv.FormatInt(l.Compressed, 10) || m[4] != strconv.FormatInt(l.Uncompressed, 10) {
			t.Errorf("row %d: %q, want %s %d %d", i, m[0], l.Name, l.Compressed, l.Uncompressed)
		}
	}
	rects := layerRectRE.FindAllStringSubmatch(page, -1)
	if len(rects) != len(rep.Layers) {
		t.Fatalf("%d layer rectangles, want %d", len(rects), len(rep.Layers))
	}
	total := float64(rep.Total().Compressed)
	for _, m := range rects {
		row, _ := strconv.Atoi(m[1])
		w, _ := strconv.ParseFloat(m[4], 64)
		h, _ := strconv.ParseFloat(m[5], 64)
		got := w * h / (mapWidth * mapHeight) * total
		if want := float64(rep.Layers[row].Compressed); math.Abs(got-want) > total*1e-6 {
			t.Errorf("row %d: the rectangle stands for %.1f bytes, want %.0f", row, got, want)
		}
	}
	for _, want := range []string{"/layers/distill_go/app/bin/go-mux", "in proportion to their uncompressed sizes", "<th>Reused</th>", "Where the bytes go: go-mux"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestWriteHTMLForeignLayer: a layer the report does not list is an error,
// not a picture of another image.
func TestWriteHTMLForeignLayer(t *testing.T) {
	img, rep := imageAndReport(t)
	rep.Layers = rep.Layers[1:]
	err := rep.WriteHTML(context.Background(), io.Discard, img, HTMLOptions{})
	if err == nil || !strings.Contains(err.Error(), "in no row of the report") {
		t.Fatalf("WriteHTML = %v, want an error naming the layer in no row", err)
	}
}

func TestRowTree(t *testing.T) {
	for _, tt := range []struct {
		name       string
		compressed int64
		files      []File
		want       map[string]float64 // path → approximate compressed bytes
		rest       float64
	}{
		{
			name: "directories sum their files", compressed: 1000,
			files: []File{{Path: "/a/x", Size: 300, Compressed: 300}, {Path: "/a/y", Size: 100, Compressed: 100}, {Path: "/b", Size: 600, Compressed: 600}},
			want:  map[string]float64{"/a": 400, "/a/x": 300, "/a/y": 100, "/b": 600},
		},
		{
			name: "a file in two layers of one row weighs twice", compressed: 300,
			files: []File{{Path: "/usr/lib/a", Size: 10, Compressed: 100}, {Path: "/usr/lib/a", Size: 10, Compressed: 120}, {Path: "/etc/c", Size: 1, Compressed: 80}},
			want:  map[string]float64{"/usr/lib/a": 220, "/usr/lib": 220, "/etc/c": 80},
		},
		{
			name: "what no file accounts for: the rest", compressed: 150,
			files: []File{{Path: "/x", Size: 10, Compressed: 50}},
			want:  map[string]float64{"/x": 50},
			rest:  100,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := rowTree(0, Layer{Name: "row", Compressed: tt.compressed}, tt.files)
			got := map[string]float64{}
			var sum, rest float64
			for _, c := range root.Children {
				sum += c.Bytes
				if c.Kind == NodeRest {
					rest += c.Bytes
				}
			}
			walk(root, func(n *Node) { got[n.Path] = n.Bytes })
			for p, want := range tt.want {
				if math.Abs(got[p]-want) > 1e-9 {
					t.Errorf("%s: %v bytes, want %v", p, got[p], want)
				}
			}
			if math.Abs(sum-float64(tt.compressed)) > 1e-9 || math.Abs(rest-tt.rest) > 1e-9 {
				t.Errorf("children sum to %v (rest %v), want %d (rest %v)", sum, rest, tt.compressed, tt.rest)
			}
		})
	}
}

// TestLayerFiles: each file gets the share of the layer's compressed size
// its uncompressed size is of the layer's files; the shares sum to it.
func TestLayerFiles(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]int
	}{
		{name: "three files", files: map[string]int{"a/x": 3000, "a/y": 1000, "b": 6000}},
		{name: "empty files weigh nothing", files: map[string]int{"a": 0, "b": 5000}},
		{name: "only empty files", files: map[string]int{"a": 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := tarLayer(t, tt.files)
			compressed, err := l.Size()
			if err != nil {
				t.Fatal(err)
			}
			files, err := LayerFiles(context.Background(), l, "row")
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			var sum float64
			for _, f := range files {
				total += f.Size
				sum += f.Compressed
			}
			for _, f := range files {
				if want := float64(compressed) * float64(f.Size) / float64(max(total, 1)); math.Abs(f.Compressed-want) > 1e-6 || f.Layer != "row" || int(f.Size) != tt.files[strings.TrimPrefix(f.Path, "/")] {
					t.Errorf("%+v: want %d bytes in row, share %v", f, tt.files[strings.TrimPrefix(f.Path, "/")], want)
				}
			}
			if want := float64(compressed); total > 0 && math.Abs(sum-want) > 1e-6 {
				t.Errorf("shares sum to %v, want the layer's %v", sum, want)
			}
		})
	}
}

func walk(n *Node, f func(*Node)) {
	f(n)
	for _, c := range n.Children {
		walk(c, f)
	}
}

func TestPrune(t *testing.T) {
	files := []File{
		{Path: "/layers/distill_go/app/bin/go-mux", Size: 9000, Compressed: 9000},
		{Path: "/usr/lib/a", Size: 500, Compressed: 500}, {Path: "/usr/lib/b", Size: 300, Compressed: 300},
		{Path: "/usr/share/x", Size: 10, Compressed: 10}, {Path: "/usr/share/y", Size: 10, Compressed: 10}, {Path: "/usr/share/z", Size: 10, Compressed: 10},
	}
	for _, tt := range []struct {
		name                  string
		min                   float64
		maxChildren, maxDepth int
		want                  string // the tree after pruning, as names
	}{
		{name: "everything", min: 0, maxChildren: 40, maxDepth: 6,
			want: "row(layers/distill_go/app/bin(go-mux) usr(lib(a b) share(x y z)))"},
		{name: "small entries taken together", min: 100, maxChildren: 40, maxDepth: 6,
			want: "row(layers/distill_go/app/bin(go-mux) usr(lib(a b) share))"},
		{name: "at most one child each", min: 0, maxChildren: 1, maxDepth: 6,
			want: "row(layers/distill_go/app/bin(go-mux) usr(lib(a b) share(x 2 smaller entries)))"},
		{name: "one level", min: 0, maxChildren: 40, maxDepth: 1,
			want: "row(layers/distill_go/app/bin usr)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := rowTree(0, Layer{Name: "row", Compressed: 9830}, files)
			root.prune(tt.min, tt.maxChildren, tt.maxDepth)
			if got := names(root); got != tt.want {
				t.Errorf("pruned tree %s, want %s", got, tt.want)
			}
		})
	}
}

func names(n *Node) string {
	if len(n.Children) == 0 {
		return n.Name
	}
	var parts []string
	for _, c := range n.Children {
		parts = append(parts, names(c))
	}
	return n.Name + "(" + strings.Join(parts, " ") + ")"
}

func TestFit(t *testing.T) {
	for _, tt := range []struct {
		s    string
		w    float64
		want string
	}{
		{s: "go-mux", w: 100, want: "go-mux"},
		{s: "libstdc++.so.6.0.33", w: 60, want: "libstdc…"},
		{s: "app", w: 12, want: ""},
	} {
		if got := fit(tt.s, tt.w); got != tt.want {
			t.Errorf("fit(%q, %v) = %q, want %q", tt.s, tt.w, got, tt.want)
		}
	}
}

func TestLargest(t *testing.T) {
	files := []File{{Path: "/a", Size: 5}, {Path: "/b", Size: 50}, {Path: "/c", Size: 5}, {Path: "/d", Size: 7}}
	for _, tt := range []struct {
		n    int
		want string
	}{
		{n: 2, want: "/b /d"},
		{n: 3, want: "/b /d /a"}, // the first listed first among equals
		{n: 10, want: "/b /d /a /c"},
		{n: 0, want: ""},
	} {
		var got []string
		for _, f := range Largest(files, tt.n) {
			got = append(got, f.Path)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("Largest(%d) = %v, want %s", tt.n, got, tt.want)
		}
	}
	if files[0].Path != "/a" {
		t.Errorf("Largest reordered its argument: %v", files)
	}
}
