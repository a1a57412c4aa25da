package report

import (
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/treemap"
)

// The treemap's drawing area (SVG user units) and what it shows: cells of at
// least minCellShare of the image, at most maxChildren per directory, down
// to maxDepth directory levels below a layer; the page also lists the
// largestFiles largest files.
const (
	mapWidth, mapHeight = 1200, 700
	minCellShare        = 0.002
	maxChildren         = 40
	maxDepth            = 6
	largestFiles        = 10
)

//go:embed report.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"size":   Size,
	"approx": approx,
	"f":      func(v float64) string { return fmt.Sprintf("%.4f", v) },
}).Parse(pageSource))

// HTMLOptions configure WriteHTML.
type HTMLOptions struct {
	// Title names the image on the page (default: the report's Image, else its digest).
	Title string
	// Reuse says the rows' Reused is known (a build's report), so the table shows it.
	Reuse bool
}

// WriteHTML writes the report as one self-contained HTML page (inline CSS,
// SVG and script; nothing fetched): a treemap of img by compressed size —
// each row of the report, and inside it the directories and largest files —
// then the table of layers and the largest files. img is the image the
// report describes: every layer is read once, for its file list.
func (r *Report) WriteHTML(ctx context.Context, w io.Writer, img v1.Image, o HTMLOptions) error {
	contents, err := r.rowContents(ctx, img)
	if err != nil {
		return fmt.Errorf("the HTML report: %w", err)
	}
	if err := pageTemplate.Execute(w, r.page(contents, o)); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}

// rowContents reads img's layers, each into the report row that lists its
// digest.
func (r *Report) rowContents(ctx context.Context, img v1.Image) ([][]File, error) {
	rowOf := map[string]int{}
	for i, l := range r.Layers {
		for _, d := range l.Digests {
			rowOf[d] = i
		}
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading the image's layers: %w", err)
	}
	out := make([][]File, len(r.Layers))
	for i, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return nil, fmt.Errorf("layer %d: reading its digest: %w", i, err)
		}
		row, ok := rowOf[d.String()]
		if !ok {
			return nil, fmt.Errorf("layer %d (%s) is in no row of the report", i, d)
		}
		files, err := LayerFiles(ctx, l, r.Layers[row].Name)
		if err != nil {
			return nil, err
		}
		out[row] = append(out[row], files...)
	}
	return out, nil
}

// page is what the template shows.
type page struct {
	Title, Digest, Duration string
	MinShare                string // the smallest cell's share of the image: "0.2%"
	Total                   Layer
	Reuse                   bool
	Width, Height           int
	Rows                    []pageRow
	Cells                   []cell
	Largest                 []File
}

type pageRow struct {
	Layer
	Index int
	Share string // of the compressed total: "12.3%"
}

func (r *Report) page(contents [][]File, o HTMLOptions) page {
	total := r.Total()
	p := page{
		Title: o.Title, Digest: r.Digest, Total: total, Reuse: o.Reuse,
		Width: mapWidth, Height: mapHeight, MinShare: fmt.Sprintf("%.1f%%", minCellShare*100),
	}
	if p.Title == "" {
		p.Title = r.Image
	}
	if p.Title == "" {
		p.Title = r.Digest
	}
	if r.Duration > 0 {
		p.Duration = fmt.Sprintf("%.1f s", r.Duration.Seconds())
	}
	root := &Node{Name: p.Title, Kind: NodeImage, Row: -1, Bytes: float64(total.Compressed)}
	for i, l := range r.Layers {
		p.Rows = append(p.Rows, pageRow{Layer: l, Index: i, Share: percent(l.Compressed, total.Compressed)})
		t := rowTree(i, l, contents[i])
		t.prune(float64(total.Compressed)*minCellShare, maxChildren, maxDepth)
		root.Children = append(root.Children, t)
	}
	layout(root, treemap.Rect{W: mapWidth, H: mapHeight}, 0, "", &p.Cells)
	p.Largest = Largest(slices.Concat(contents...), largestFiles)
	return p
}

func percent(part, whole int64) string {
	if whole == 0 {
		return "0.0%"
	}
	return fmt.Sprintf("%.1f%%", float64(part)*100/float64(whole))
}

// approx formats an approximate compressed size: "≈ 1.2 MB".
func approx(b float64) string {
	return "≈ " + Size(int64(b+0.5))
}

// title is a cell's tooltip: what it is, where, and its sizes.
func (n *Node) title(layer string) string {
	var b strings.Builder
	b.WriteString(n.Name)
	if n.Kind != NodeLayer && n.Path != "" {
		fmt.Fprintf(&b, "\n%s", n.Path)
	}
	if n.Kind != NodeLayer {
		fmt.Fprintf(&b, "\nin %s", layer)
		fmt.Fprintf(&b, "\n%s compressed (approximate)", approx(n.Bytes))
	} else {
		fmt.Fprintf(&b, "\n%s compressed", Size(int64(n.Bytes)))
	}
	if n.Files > 0 {
		files := "files"
		if n.Files == 1 {
			files = "file"
		}
		fmt.Fprintf(&b, " · %s uncompressed in %d %s", Size(n.Size), n.Files, files)
	}
	return b.String()
}

// WriteHTMLFile writes the page (WriteHTML) to the file p; on failure no
// half-written page is left.
func (r *Report) WriteHTMLFile(ctx context.Context, p string, img v1.Image, o HTMLOptions) error {
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("the HTML report: %w", err)
	}
	if err := r.WriteHTML(ctx, f, img, o); err != nil {
		f.Close()
		os.Remove(p)
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(p)
		return fmt.Errorf("the HTML report: %w", err)
	}
	return nil
}
