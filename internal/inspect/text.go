package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/distill-build/distill/internal/report"
)

// WriteJSON writes the inspection as indented JSON (sizes in bytes).
func (img *Image) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(img)
}

// WriteText writes the inspection for people: the run image, buildpacks,
// processes, the size table (one row per layer, distill build's table) and
// the packages of each layer.
func (img *Image) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Image       %s\n", img.Name)
	fmt.Fprintf(&b, "Digest      %s\n", img.Digest)
	fmt.Fprintf(&b, "Platform    %s/%s", img.OS, img.Architecture)
	if img.StackID != "" {
		fmt.Fprintf(&b, " · stack %s", img.StackID)
	}
	fmt.Fprintf(&b, "\nRun image   %s @ %s\n", orNone(img.RunImage.Image), orNone(img.RunImage.Reference))
	b.WriteString("Buildpacks ")
	for i, bp := range img.Buildpacks {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s %s", bp.ID, bp.Version)
	}
	b.WriteString("\nProcesses\n")
	width := 10
	for _, p := range img.Processes {
		width = max(width, len(p.Type))
	}
	for _, p := range img.Processes {
		mark := " "
		if p.Type == img.DefaultProcess {
			mark = "*"
		}
		fmt.Fprintf(&b, "  %s %-*s %s\n", mark, width, p.Type, strings.Join(append(append([]string{}, p.Command...), p.Args...), " "))
	}
	if img.DefaultProcess != "" {
		fmt.Fprintf(&b, "  (* default: %s)\n", img.DefaultProcess)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if err := report.WriteTable(w, "LAYER", "PACKAGES", img.rows()); err != nil {
		return err
	}
	return img.writePackages(w)
}

// rows is one table row per layer, then TOTAL.
func (img *Image) rows() []report.Row {
	var rows []report.Row
	width := 0
	for _, l := range img.Layers {
		width = max(width, len(l.Source()))
	}
	for _, l := range img.Layers {
		note := "-"
		switch n := len(l.Packages); {
		case l.Kind == KindRunImage && l.DiffID == img.RunImage.TopLayer && len(img.RunImage.Packages) > 0:
			note = fmt.Sprint(len(img.RunImage.Packages)) // the run image's packages, once
		case n > 0:
			note = fmt.Sprint(n)
		}
		rows = append(rows, report.Row{Name: fmt.Sprintf("%-*s  %s", width, l.Source(), shortHash(l.DiffID)), Compressed: l.Compressed, Uncompressed: l.Uncompressed, Note: note})
	}
	return append(rows, report.Row{Name: "TOTAL", Compressed: img.Compressed, Uncompressed: img.Uncompressed})
}

// writePackages lists the packages of the run image, of each layer and of
// each buildpack's image-wide SBOM.
func (img *Image) writePackages(w io.Writer) error {
	var b strings.Builder
	list := func(title string, pkgs []Package) {
		if len(pkgs) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s (%d):\n", title, len(pkgs))
		for _, p := range pkgs {
			fmt.Fprintln(&b, strings.TrimRight(fmt.Sprintf("  %-40s %s", p.Name, p.Version), " "))
		}
	}
	list("Packages in run image "+img.RunImage.Image, img.RunImage.Packages)
	for _, l := range img.Layers {
		list("Packages in layer "+l.Source(), l.Packages)
	}
	for _, s := range img.SBOMs {
		list("Packages of buildpack "+s.Buildpack, s.Packages)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Report is the inspection as a size report (report.Report): one row per
// layer, named by what put it there and its diff ID as the text table names
// it ("distill/go:app  1a2b3c4d5e6f"), for the HTML page. Whether a layer was
// reused is not known after the build, so no row says it was.
func (img *Image) Report() *report.Report {
	r := &report.Report{Image: img.Name, Digest: img.Digest, Layers: []report.Layer{}}
	for _, l := range img.Layers {
		r.Layers = append(r.Layers, report.Layer{
			Name: l.Source() + "  " + shortHash(l.DiffID), Compressed: l.Compressed, Uncompressed: l.Uncompressed,
			Digests: []string{l.Digest},
		})
	}
	return r
}

// shortHash is the first 12 hex digits of a "sha256:..." hash.
func shortHash(h string) string {
	_, hex, ok := strings.Cut(h, ":")
	if !ok || len(hex) < 12 {
		return h
	}
	return hex[:12]
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
