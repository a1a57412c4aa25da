// Package image assembles OCI images from reproducible layers on top of
// go-containerregistry's v1.Image and v1.Layer.
package image

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/distill-build/distill/internal/archive"
)

// Epoch is the timestamp written on every file (archive.Epoch) and image
// config, the CNB convention (1980-01-01T00:00:01Z): the same input always
// gives the same digest.
var Epoch = archive.Epoch

type layerOptions struct {
	staging     string
	blobs       string
	compression Compression
	prefix      string
	uid, gid    int
	filter      func(rel string, d fs.DirEntry) bool
}

// LayerOption configures LayerFromDir and WriteDir.
type LayerOption func(*layerOptions)

// WithPrefix places the tree at p inside the image (for example "/layers/distill_go/app").
// Parent directories of p are written too.
func WithPrefix(p string) LayerOption {
	return func(o *layerOptions) { o.prefix = strings.Trim(path.Clean("/"+p), "/") }
}

// WithStaging stages the uncompressed tar in dir instead of the system temp
// directory; the caller removes dir once the layer has been written out.
func WithStaging(dir string) LayerOption {
	return func(o *layerOptions) { o.staging = dir }
}

// WithBlobCache keeps compressed layer blobs in dir, named by diff ID, and
// reuses them: a layer whose content did not change is not compressed again.
func WithBlobCache(dir string) LayerOption {
	return func(o *layerOptions) { o.blobs = dir }
}

// WithCompression picks the layer compression (default Zstd).
func WithCompression(c Compression) LayerOption {
	return func(o *layerOptions) {
		if c != "" {
			o.compression = c
		}
	}
}

// WithOwner makes uid:gid the owner of every entry.
func WithOwner(uid, gid int) LayerOption {
	return func(o *layerOptions) { o.uid, o.gid = uid, gid }
}

// WithFilter keeps only the entries for which keep returns true; rel is the
// slash-separated path relative to the walked directory. Returning false for a
// directory skips its whole subtree.
func WithFilter(keep func(rel string, d fs.DirEntry) bool) LayerOption {
	return func(o *layerOptions) { o.filter = keep }
}

// WriteDir writes dir as a normalised tar stream to w through
// archive.Writer: entries sorted by name, fixed timestamps, every entry owned
// by the WithOwner ids (root by default), no device files.
func WriteDir(w io.Writer, dir string, opts ...LayerOption) error {
	o := layerOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	tw := archive.NewWriter(w, archive.Owner(o.uid, o.gid))
	if err := tw.WriteDir(dir, o.prefix, o.filter); err != nil {
		return fmt.Errorf("writing layer from %s: %w", dir, err)
	}
	return tw.Close()
}
