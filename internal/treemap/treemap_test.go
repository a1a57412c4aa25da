package treemap

import (
	"math"
	"testing"
)

func TestSquarify(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []float64
		bounds Rect
	}{
		{name: "the paper's example", values: []float64{6, 6, 4, 3, 2, 2, 1}, bounds: Rect{W: 6, H: 4}},
		{name: "one value fills the bounds", values: []float64{42}, bounds: Rect{X: 10, Y: 20, W: 300, H: 200}},
		{name: "equal values", values: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, bounds: Rect{W: 90, H: 90}},
		{name: "unsorted, tall bounds", values: []float64{3, 50, 7, 1, 20, 19}, bounds: Rect{X: 5, Y: 5, W: 40, H: 400}},
		{name: "a layer of a few bytes beside megabytes", values: []float64{31_000_000, 2_400_000, 1_200, 310, 95}, bounds: Rect{W: 1200, H: 700}},
		{name: "zero, negative and NaN get nothing", values: []float64{0, 10, -3, math.NaN(), 5, math.Inf(1)}, bounds: Rect{W: 100, H: 50}},
		{name: "many small beside one large", values: append([]float64{1000}, repeat(1, 200)...), bounds: Rect{W: 800, H: 600}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rects := Squarify(tt.values, tt.bounds)
			if len(rects) != len(tt.values) {
				t.Fatalf("%d rectangles for %d values", len(rects), len(tt.values))
			}
			checkLayout(t, tt.values, tt.bounds, rects)
		})
	}
}

// checkLayout asserts the treemap's invariants: each area is its value's
// share of the bounds, the areas sum to the bounds' area, every rectangle
// lies inside the bounds and no two overlap.
func checkLayout(t *testing.T, values []float64, bounds Rect, rects []Rect) {
	t.Helper()
	const eps = 1e-6
	var total, sum float64
	for _, v := range values {
		if v > 0 && !math.IsInf(v, 1) {
			total += v
		}
	}
	for i, r := range rects {
		want := 0.0
		if v := values[i]; v > 0 && !math.IsInf(v, 1) {
			want = v / total * bounds.Area()
		}
		if math.Abs(r.Area()-want) > eps*bounds.Area() {
			t.Errorf("value %v: area %v, want %v", values[i], r.Area(), want)
		}
		if r.W < 0 || r.H < 0 || r.X < bounds.X-eps || r.Y < bounds.Y-eps ||
			r.X+r.W > bounds.X+bounds.W+eps || r.Y+r.H > bounds.Y+bounds.H+eps {
			t.Errorf("value %v: %+v lies outside %+v", values[i], r, bounds)
		}
		sum += r.Area()
	}
	if math.Abs(sum-bounds.Area()) > eps*bounds.Area() {
		t.Errorf("areas sum to %v, want %v", sum, bounds.Area())
	}
	for i := range rects {
		for j := i + 1; j < len(rects); j++ {
			if a := overlap(rects[i], rects[j]); a > eps*bounds.Area() {
				t.Errorf("rectangles %d %+v and %d %+v overlap by %v", i, rects[i], j, rects[j], a)
			}
		}
	}
}

func overlap(a, b Rect) float64 {
	w := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
	h := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestSquarifyAspect: the squarified layout keeps cells near square where
// the values allow it (equal values in a square give squares).
func TestSquarifyAspect(t *testing.T) {
	for _, tt := range []struct {
		name      string
		values    []float64
		bounds    Rect
		maxAspect float64
	}{
		{name: "four equal in a square", values: repeat(1, 4), bounds: Rect{W: 100, H: 100}, maxAspect: 1.0001},
		{name: "the paper's example", values: []float64{6, 6, 4, 3, 2, 2, 1}, bounds: Rect{W: 6, H: 4}, maxAspect: 3},
		{name: "hundred equal", values: repeat(1, 100), bounds: Rect{W: 160, H: 90}, maxAspect: 2.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i, r := range Squarify(tt.values, tt.bounds) {
				if a := max(r.W/r.H, r.H/r.W); a > tt.maxAspect {
					t.Errorf("cell %d %+v has aspect %.2f, want at most %.2f", i, r, a, tt.maxAspect)
				}
			}
		})
	}
}

func TestSquarifyEmpty(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []float64
		bounds Rect
	}{
		{name: "no values", bounds: Rect{W: 10, H: 10}},
		{name: "all zero", values: []float64{0, 0}, bounds: Rect{W: 10, H: 10}},
		{name: "empty bounds", values: []float64{1, 2}, bounds: Rect{X: 3, Y: 4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for i, r := range Squarify(tt.values, tt.bounds) {
				if r.Area() != 0 || r.X != tt.bounds.X || r.Y != tt.bounds.Y {
					t.Errorf("rectangle %d is %+v, want an empty one at the corner of %+v", i, r, tt.bounds)
				}
			}
		})
	}
}

func TestInset(t *testing.T) {
	for _, tt := range []struct {
		r    Rect
		d    float64
		want Rect
	}{
		{r: Rect{X: 0, Y: 0, W: 10, H: 8}, d: 1, want: Rect{X: 1, Y: 1, W: 8, H: 6}},
		{r: Rect{X: 5, Y: 5, W: 2, H: 20}, d: 3, want: Rect{X: 6, Y: 8, W: 0, H: 14}},
	} {
		if got := tt.r.Inset(tt.d); got != tt.want {
			t.Errorf("%+v.Inset(%v) = %+v, want %+v", tt.r, tt.d, got, tt.want)
		}
	}
}
