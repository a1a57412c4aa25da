// Package budget holds an image to a size budget: the most its layers may
// weigh compressed (what a pull transfers). A build over budget fails before
// anything is written, naming the overshoot and the largest files.
package budget

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/go-units"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/report"
)

// Largest is how many of the largest files an exceeded budget names.
const Largest = 5

// Budget is the most an image may weigh, compressed.
type Budget struct {
	Max int64
	// Spec is the size as the user wrote it ("50MB") and Source where
	// ("--max-size", "project.toml [io.distill.build] max-size").
	Spec, Source string
}

// Parse reads a size such as "50MB", "1.5GB" (decimal, as distill's tables
// print sizes), "50MiB" (binary) or "52428800" (bytes).
func Parse(spec, source string) (Budget, error) {
	parse := units.FromHumanSize
	if strings.Contains(strings.ToLower(spec), "i") {
		parse = units.RAMInBytes
	}
	n, err := parse(strings.TrimSpace(spec))
	if err != nil || n <= 0 {
		return Budget{}, fmt.Errorf("%s %q: want a size such as 50MB, 1.5GB or 50MiB", source, spec)
	}
	return Budget{Max: n, Spec: spec, Source: source}, nil
}

// File is one file of the image and the layer that holds it (report.Files
// lists them).
type File = report.File

// ExceededError is a build over budget: its size report and largest files.
type ExceededError struct {
	Budget  Budget
	Size    int64 // the image's compressed size
	Report  *report.Report
	Largest []File
}

func (e *ExceededError) Error() string {
	var b strings.Builder
	what := "image"
	if e.Report.Platform != "" {
		what = "the " + e.Report.Platform + " image"
	}
	fmt.Fprintf(&b, "%s %s is %s compressed, over the budget of %s (%s %s) by %s; no image was written\n",
		what, e.Report.Digest, report.Size(e.Size), report.Size(e.Budget.Max), e.Budget.Source, e.Budget.Spec, report.Size(e.Size-e.Budget.Max))
	if err := e.Report.WriteText(&b); err != nil {
		fmt.Fprintf(&b, "(the size table: %v)\n", err)
	}
	fmt.Fprintf(&b, "The %d largest files (uncompressed):\n", len(e.Largest))
	for _, f := range e.Largest {
		fmt.Fprintf(&b, "  %8s  %s  (%s)\n", report.Size(f.Size), f.Path, f.Layer)
	}
	b.WriteString("Shrink the app or its dependencies, or raise the budget.")
	return b.String()
}

// Check returns an *ExceededError when rep's compressed total is over b,
// naming the Largest files of img (whose layers are named by layerNames, in
// image order); nil when it fits or b.Max is 0.
func Check(ctx context.Context, img v1.Image, rep *report.Report, layerNames []string, b Budget) error {
	size := rep.Total().Compressed
	if b.Max == 0 || size <= b.Max {
		return nil
	}
	files, err := LargestFiles(ctx, img, layerNames, Largest)
	if err != nil {
		return fmt.Errorf("image over the budget of %s (%s %s), and its files could not be listed: %w", report.Size(b.Max), b.Source, b.Spec, err)
	}
	return &ExceededError{Budget: b, Size: size, Report: rep, Largest: files}
}

// LargestFiles are the n largest regular files in img's layers (a file
// replaced by a later layer still weighs in the image), each with the name
// layerNames gives its layer.
func LargestFiles(ctx context.Context, img v1.Image, layerNames []string, n int) ([]File, error) {
	files, err := report.Files(ctx, img, layerNames)
	if err != nil {
		return nil, err
	}
	return report.Largest(files, n), nil
}
