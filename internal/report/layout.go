package report

import (
	"fmt"
	"math"

	"github.com/distill-build/distill/internal/treemap"
)

// cell is one rectangle of the treemap as the page draws it.
type cell struct {
	treemap.Rect
	Node   *Node
	Depth  int    // 1 for a row of the report, 2 for what is directly in it, ...
	Fill   string // an hsl() colour: one hue per row, lighter deeper down
	Ink    string // the label's colour
	Label  string // the name, cut to fit ("" when nothing fits)
	Detail string // the size, on a second line, when it fits
	Title  string // the tooltip
}

// Drawing constants: the padding around a cell's children, the strip its
// label takes above them, and the label font's advance per character.
const (
	cellPad      = 2.0
	headerHeight = 14.0
	charWidth    = 6.3
)

// layout places n in r and its children inside r (squarified, by Bytes),
// appending a cell for every node below the image, parents before their
// children. The image's children (the report's rows) fill r exactly, so a
// row's area is its exact share of the compressed total; deeper cells are
// inset by the padding and the label strip of their parent.
func layout(n *Node, r treemap.Rect, depth int, layer string, cells *[]cell) {
	inner := r
	if depth > 0 {
		if depth == 1 {
			layer = n.Name
		}
		*cells = append(*cells, newCell(n, r, depth, layer))
		if len(n.Children) == 0 || r.W < 24 || r.H < 24 {
			return
		}
		header := cellPad
		if r.H >= 48 && r.W >= 60 {
			header = headerHeight
		}
		inner = treemap.Rect{X: r.X + cellPad, Y: r.Y + header, W: r.W - 2*cellPad, H: r.H - header - cellPad}
	}
	values := make([]float64, len(n.Children))
	for i, c := range n.Children {
		values[i] = c.Bytes
	}
	for i, cr := range treemap.Squarify(values, inner) {
		if depth == 0 || cr.Area() >= 1 {
			layout(n.Children[i], cr, depth+1, layer, cells)
		}
	}
}

func newCell(n *Node, r treemap.Rect, depth int, layer string) cell {
	c := cell{Rect: r, Node: n, Depth: depth, Title: n.title(layer)}
	hue := math.Mod(210+float64(n.Row)*137.508, 360)
	sat, light := 55.0, math.Min(34+9*float64(depth-1), 82)
	if n.Kind == NodeRest {
		sat = 12
	}
	c.Fill = fmt.Sprintf("hsl(%.0f,%.0f%%,%.0f%%)", hue, sat, light)
	c.Ink = "#fff"
	if light >= 58 {
		c.Ink = "#1a1a1a"
	}
	if r.W >= 24 && r.H >= 13 {
		c.Label = fit(n.Name, r.W)
	}
	if c.Label != "" && r.H >= 28 && (len(n.Children) == 0 || r.H < 48 || r.W < 60) {
		if n.Kind == NodeLayer {
			c.Detail = fit(Size(int64(n.Bytes)), r.W)
		} else {
			c.Detail = fit(approx(n.Bytes), r.W)
		}
	}
	return c
}

// fit cuts s to the characters a cell w wide shows, ending in "…" when cut;
// "" when not even two fit.
func fit(s string, w float64) string {
	n := int((w - 6) / charWidth)
	r := []rune(s)
	switch {
	case n < 2:
		return ""
	case len(r) <= n:
		return s
	}
	return string(r[:n-1]) + "…"
}
