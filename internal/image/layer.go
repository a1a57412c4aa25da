// Package image assembles OCI images from reproducible layers on top of
// go-containerregistry's v1.Image and v1.Layer.
package image

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Epoch is the timestamp written on every file and image config, the CNB
// convention (1980-01-01T00:00:01Z): the same input always gives the same digest.
var Epoch = time.Date(1980, time.January, 1, 0, 0, 1, 0, time.UTC)

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

// WriteDir writes dir as a normalised tar stream to w: entries in lexical
// order, fixed timestamps, numeric owners only, no device files.
func WriteDir(w io.Writer, dir string, opts ...LayerOption) error {
	o := layerOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	tw := tar.NewWriter(w)
	if o.prefix != "" {
		parts := strings.Split(o.prefix, "/")
		for i := range parts[:len(parts)-1] {
			if err := tw.WriteHeader(dirHeader(strings.Join(parts[:i+1], "/"), 0o755, o)); err != nil {
				return err
			}
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && o.filter != nil && !o.filter(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := path.Join(o.prefix, rel)
		if name == "." || name == "" {
			return nil // the root of an unprefixed layer is implied
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return writeEntry(tw, p, name, fi, o)
	})
	if err != nil {
		return fmt.Errorf("writing layer from %s: %w", dir, err)
	}
	return tw.Close()
}

func dirHeader(name string, mode int64, o layerOptions) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeDir, Name: name + "/", Mode: mode,
		Uid: o.uid, Gid: o.gid, ModTime: Epoch, Format: tar.FormatPAX,
	}
}

func writeEntry(tw *tar.Writer, src, name string, fi fs.FileInfo, o layerOptions) error {
	hdr := &tar.Header{
		Name: name, Mode: int64(fi.Mode().Perm()),
		Uid: o.uid, Gid: o.gid, ModTime: Epoch, Format: tar.FormatPAX,
	}
	// tar wants the Unix bits for setuid/setgid/sticky, not Go's fs.Mode bits.
	if fi.Mode()&fs.ModeSetuid != 0 {
		hdr.Mode |= 0o4000
	}
	if fi.Mode()&fs.ModeSetgid != 0 {
		hdr.Mode |= 0o2000
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	switch {
	case fi.IsDir():
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		return tw.WriteHeader(hdr)
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		return tw.WriteHeader(hdr)
	case fi.Mode().IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.CopyN(tw, f, fi.Size()); err != nil {
			return fmt.Errorf("copying %s: %w", src, err)
		}
		return nil
	default:
		return nil // sockets, pipes and devices never belong in a layer
	}
}
