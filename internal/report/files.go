package report

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/archive"
)

// File is one regular file of an image layer, with its uncompressed size.
// A file a later layer replaces still weighs in the image, in its layer.
type File struct {
	Path  string `json:"path"`  // absolute: "/usr/lib/libc.so.6"
	Layer string `json:"layer"` // the name of its layer's row: "distill/go:app"
	Size  int64  `json:"size"`  // uncompressed
	// Compressed is the file's share of its layer's compressed size, in
	// proportion to its uncompressed size among the layer's regular files:
	// an approximation (a file's own ratio is not known without compressing
	// it alone); 0 in a layer whose files are all empty.
	Compressed float64 `json:"-"`
}

// Files lists the regular files of every layer of img, in image order;
// layerNames[i] names layer i ("layer i" when there is no name).
func Files(ctx context.Context, img v1.Image, layerNames []string) ([]File, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading the image's layers: %w", err)
	}
	var files []File
	for i, l := range layers {
		name := fmt.Sprintf("layer %d", i)
		if i < len(layerNames) {
			name = layerNames[i]
		}
		fs, err := LayerFiles(ctx, l, name)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	return files, nil
}

// LayerFiles lists the regular files of one layer (read through the one
// tar reader, archive.Walk), each named as being in layer name, with its
// approximate share of the layer's compressed size.
func LayerFiles(ctx context.Context, l v1.Layer, name string) ([]File, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	defer rc.Close()
	var files []File
	err = archive.Walk(ctx, name, rc, func(p string, hdr *tar.Header, _ io.Reader) error {
		if hdr.Typeflag == tar.TypeReg {
			files = append(files, File{Path: "/" + strings.TrimPrefix(p, "/"), Layer: name, Size: hdr.Size})
		}
		return nil
	}, archive.Layer())
	if err != nil {
		return nil, fmt.Errorf("listing the files of %s: %w", name, err)
	}
	compressed, err := l.Size()
	if err != nil {
		return nil, fmt.Errorf("reading the size of %s: %w", name, err)
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	for i := range files {
		if total > 0 {
			files[i].Compressed = float64(compressed) * float64(files[i].Size) / float64(total)
		}
	}
	return files, nil
}

// Largest is the n largest of files by uncompressed size (the first listed
// first among equals), largest first.
func Largest(files []File, n int) []File {
	files = slices.Clone(files)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Size > files[j].Size })
	return files[:min(n, len(files))]
}
