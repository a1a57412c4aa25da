// Package report tells where the bytes of a built image go: one row per layer
// (the run image's layers as one row), compressed and uncompressed sizes, and
// whether each layer was reused.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/lifecycle"
)

// Layer is one row of the report.
type Layer struct {
	Name         string   `json:"name"`
	Compressed   int64    `json:"compressed"`
	Uncompressed int64    `json:"uncompressed"`
	Reused       bool     `json:"reused"`
	Digests      []string `json:"digests"` // the compressed digests of the layers in this row
}

// Report is the size report of one image.
type Report struct {
	// Platform is the image's OS/ARCH in a multi-platform build, else "".
	Platform string        `json:"platform,omitempty"`
	Image    string        `json:"image,omitempty"` // where the image went, when set by the caller
	Digest   string        `json:"digest"`          // manifest digest
	Layers   []Layer       `json:"layers"`
	Duration time.Duration `json:"-"` // build time, when set by the caller
}

// Total sums the rows; its Name is "TOTAL" and Reused is true only if every row was reused.
func (r *Report) Total() Layer {
	t := Layer{Name: "TOTAL", Reused: len(r.Layers) > 0, Digests: []string{}}
	for _, l := range r.Layers {
		t.Compressed += l.Compressed
		t.Uncompressed += l.Uncompressed
		t.Reused = t.Reused && l.Reused
		t.Digests = append(t.Digests, l.Digests...)
	}
	return t
}

// New builds the report of img from the exporter's description of its
// layers (one per layer, in image order): sizes and reuse come from layers,
// the manifest digest from img, and no layer is read. Consecutive layers of
// the same row name and reuse share a row; the run image's layers are one
// row, "run image  <ref>".
func New(img v1.Image, layers []lifecycle.ExportedLayer) (*Report, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	if len(layers) != len(m.Layers) {
		return nil, fmt.Errorf("report: %d exported layers for %d image layers", len(layers), len(m.Layers))
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing digest: %w", err)
	}
	r := &Report{Digest: d.String(), Layers: []Layer{}}
	for i, l := range layers {
		if l.Digest != m.Layers[i].Digest {
			return nil, fmt.Errorf("report: exported layer %d (%s) is %s, the image's is %s", i, l.ID.Key(), l.Digest, m.Layers[i].Digest)
		}
		name := RowName(l.ID)
		if n := len(r.Layers); n > 0 && r.Layers[n-1].Name == name && r.Layers[n-1].Reused == l.Reused {
			last := &r.Layers[n-1]
			last.Compressed += l.Compressed
			last.Uncompressed += l.Uncompressed
			last.Digests = append(last.Digests, l.Digest.String())
			continue
		}
		r.Layers = append(r.Layers, Layer{
			Name: name, Compressed: l.Compressed, Uncompressed: l.Uncompressed,
			Reused: l.Reused, Digests: []string{l.Digest.String()},
		})
	}
	return r, nil
}

// RowName is how the table names a layer: "run image  distill/run:base",
// "distill/go:app", "sbom", "app".
func RowName(id lifecycle.LayerID) string {
	switch id.Kind {
	case lifecycle.RunImageLayer:
		return "run image  " + id.RunImage
	case lifecycle.BuildpackLayer:
		return id.Buildpack + ":" + id.Layer
	}
	return string(id.Kind)
}

// WriteText writes the report as a table:
//
//	LAYER                          COMPRESSED  UNCOMPRESSED  REUSED
//	run image  distill/run:static      0.3 MB        2.3 MB  yes
//	TOTAL                              0.3 MB        2.3 MB
//	image sha256:… · built in 3.1 s
func (r *Report) WriteText(w io.Writer) error {
	rows := make([]Row, 0, len(r.Layers)+1)
	for _, l := range r.Layers {
		rows = append(rows, Row{Name: l.Name, Compressed: l.Compressed, Uncompressed: l.Uncompressed, Note: yesNo(l.Reused)})
	}
	t := r.Total()
	rows = append(rows, Row{Name: t.Name, Compressed: t.Compressed, Uncompressed: t.Uncompressed})
	if err := WriteTable(w, "LAYER", "REUSED", rows); err != nil {
		return err
	}
	footer := "image"
	if r.Image != "" {
		footer += " " + r.Image
	}
	footer += " " + r.Digest
	if r.Duration > 0 {
		footer += fmt.Sprintf(" · built in %.1f s", r.Duration.Seconds())
	}
	_, err := fmt.Fprintln(w, footer)
	return err
}

// Row is one line of a size table: a name, two sizes in bytes and a note
// (the last column; "" leaves it empty).
type Row struct {
	Name                     string
	Compressed, Uncompressed int64
	Note                     string
}

// WriteTable writes rows as distill's size table: the first column headed
// name, sizes right-aligned under COMPRESSED and UNCOMPRESSED, then the note
// column headed note (none when note is "").
func WriteTable(w io.Writer, name, note string, rows []Row) error {
	// Right-aligned numbers: AlignRight with no padding, two spaces written
	// before each number, and the first column padded by hand.
	tw := tabwriter.NewWriter(w, 0, 0, 0, ' ', tabwriter.AlignRight)
	width := len(name)
	for _, r := range rows {
		width = max(width, len(r.Name))
	}
	line := func(name, comp, uncomp, note string) {
		if note != "" {
			note = "  " + note
		}
		fmt.Fprintf(tw, "%-*s\t  %s\t  %s\t%s\n", width, name, comp, uncomp, note)
	}
	line(name, "COMPRESSED", "UNCOMPRESSED", note)
	for _, r := range rows {
		line(r.Name, Size(r.Compressed), Size(r.Uncompressed), r.Note)
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// jsonReport is the stable JSON shape: sizes in bytes, duration in seconds.
type jsonReport struct {
	Platform        string  `json:"platform,omitempty"`
	Image           string  `json:"image,omitempty"`
	Digest          string  `json:"digest"`
	Layers          []Layer `json:"layers"`
	Total           Layer   `json:"total"`
	DurationSeconds float64 `json:"durationSeconds,omitempty"`
}

// WriteJSON writes the report as indented JSON: {"image", "digest", "layers":
// [{"name", "compressed", "uncompressed", "reused", "digests"}], "total",
// "durationSeconds"}, sizes in bytes.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.jsonReport())
}

func (r *Report) jsonReport() jsonReport {
	layers := r.Layers
	if layers == nil {
		layers = []Layer{}
	}
	return jsonReport{
		Platform: r.Platform, Image: r.Image, Digest: r.Digest, Layers: layers, Total: r.Total(),
		DurationSeconds: r.Duration.Seconds(),
	}
}

// Size formats n bytes in decimal units as docker and pack do, one decimal
// below 100, MB from 0.1 MB to 999 MB:
// 99 B, 4.0 kB, 0.3 MB, 2.6 MB, 120 MB, 1.2 GB.
func Size(n int64) string {
	if n < 100 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1000, "kB"
	switch {
	case v >= 1e9:
		v, unit = v/1e9, "TB"
	case v >= 1e6:
		v, unit = v/1e6, "GB"
	case v >= 99.95: // MB from 0.1 MB up to 999 MB, as in the build output
		v, unit = v/1e3, "MB"
	}
	if v >= 99.95 {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// Reports are the reports of one build, one per platform in the order
// built. One report is written as Report writes it; several as one section
// per platform.
type Reports []*Report

// WriteText writes one report's table, or for several, each under a line
// "PLATFORM linux/arm64" and separated by a blank line.
func (rs Reports) WriteText(w io.Writer) error {
	if len(rs) == 1 {
		return rs[0].WriteText(w)
	}
	for i, r := range rs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "PLATFORM %s\n", r.Platform)
		if err := r.WriteText(w); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes one report as Report.WriteJSON does, or for several
// {"platforms": [{"platform": "linux/amd64", "digest", "layers", "total",
// ...}, ...]}, sizes in bytes.
func (rs Reports) WriteJSON(w io.Writer) error {
	if len(rs) == 1 {
		return rs[0].WriteJSON(w)
	}
	out := struct {
		Platforms []jsonReport `json:"platforms"`
	}{}
	for _, r := range rs {
		out.Platforms = append(out.Platforms, r.jsonReport())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
