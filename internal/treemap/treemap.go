// Package treemap lays out weighted items as rectangles whose areas are
// proportional to their weights, with the squarified algorithm of Bruls,
// Huizing and van Wijk ("Squarified Treemaps", 2000): items are placed
// largest first in rows along the shorter side of the space left, and a row
// is closed as soon as adding the next item would make its worst aspect
// ratio worse.
package treemap

import (
	"math"
	"sort"
)

// Rect is an axis-aligned rectangle: its top-left corner and its size.
type Rect struct {
	X, Y, W, H float64
}

// Area is W×H.
func (r Rect) Area() float64 { return r.W * r.H }

// Inset is r shrunk by d on every side (never below zero size).
func (r Rect) Inset(d float64) Rect {
	w, h := max(r.W-2*d, 0), max(r.H-2*d, 0)
	return Rect{X: r.X + min(d, r.W/2), Y: r.Y + min(d, r.H/2), W: w, H: h}
}

// Squarify divides bounds among values: the i-th rectangle has the area
// values[i]/sum(values) of bounds, the rectangles do not overlap and cover
// bounds. Values that are zero, negative or NaN get an empty rectangle at
// bounds' corner. The result is in the order of values.
func Squarify(values []float64, bounds Rect) []Rect {
	out := make([]Rect, len(values))
	var total float64
	order := make([]int, 0, len(values))
	for i, v := range values {
		out[i] = Rect{X: bounds.X, Y: bounds.Y}
		if v > 0 && !math.IsInf(v, 1) {
			total += v
			order = append(order, i)
		}
	}
	if total <= 0 || bounds.W <= 0 || bounds.H <= 0 {
		return out
	}
	sort.SliceStable(order, func(a, b int) bool { return values[order[a]] > values[order[b]] })
	scale := bounds.Area() / total
	areas := make([]float64, len(order))
	for k, i := range order {
		areas[k] = values[i] * scale
	}
	free := bounds
	start := 0
	for start < len(order) {
		side := min(free.W, free.H)
		end := start + 1
		for end < len(order) && worst(areas[start:end+1], side) <= worst(areas[start:end], side) {
			end++
		}
		free = placeRow(out, order[start:end], areas[start:end], free, end == len(order))
		start = end
	}
	return out
}

// worst is the largest aspect ratio of a row of areas laid along a side of
// length side.
func worst(row []float64, side float64) float64 {
	var sum, lo, hi float64
	lo = math.Inf(1)
	for _, a := range row {
		sum += a
		lo, hi = min(lo, a), max(hi, a)
	}
	s2, w2 := sum*sum, side*side
	return max(w2*hi/s2, s2/(w2*lo))
}

// placeRow lays the row's areas into out (at the indexes idx) along the
// shorter side of free and returns the space left. The last row takes all
// of free, so rounding leaves no gap and nothing outside bounds.
func placeRow(out []Rect, idx []int, areas []float64, free Rect, last bool) Rect {
	var sum float64
	for _, a := range areas {
		sum += a
	}
	if free.W >= free.H { // a column at the left of free
		w := sum / free.H
		if last || w > free.W {
			w = free.W
		}
		y := free.Y
		for k, i := range idx {
			h := areas[k] / sum * free.H
			if k == len(idx)-1 {
				h = free.Y + free.H - y
			}
			out[i] = Rect{X: free.X, Y: y, W: w, H: h}
			y += h
		}
		return Rect{X: free.X + w, Y: free.Y, W: free.W - w, H: free.H}
	}
	h := sum / free.W // a row at the top of free
	if last || h > free.H {
		h = free.H
	}
	x := free.X
	for k, i := range idx {
		w := areas[k] / sum * free.W
		if k == len(idx)-1 {
			w = free.X + free.W - x
		}
		out[i] = Rect{X: x, Y: free.Y, W: w, H: h}
		x += w
	}
	return Rect{X: free.X, Y: free.Y + h, W: free.W, H: free.H - h}
}
