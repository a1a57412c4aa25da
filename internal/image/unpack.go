package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/archive"
)

// Unpack flattens the layers of img into dir, a root file system for an OCI
// runtime, through archive.Extract with archive.Layer: whiteouts are applied,
// modes, owners, times and xattrs kept, device nodes skipped. Entries never
// land outside dir: names with ".." are refused and symlinks are resolved as
// if dir were "/". The tree is built in a sibling directory and
// renamed to dir at the end; if dir already exists it is kept as it is (key
// dir by image digest). Errors name the layer by index and diff ID, and the entry.
func Unpack(ctx context.Context, img v1.Image, dir string) error {
	dir = filepath.Clean(dir)
	if _, err := os.Lstat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, dirMode); err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // gone after the rename
	if err := os.Chmod(tmp, dirMode); err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("unpacking into %s: listing layers: %w", dir, err)
	}
	var diffIDs []v1.Hash // to name layers in errors
	if cf, err := img.ConfigFile(); err == nil {
		diffIDs = cf.RootFS.DiffIDs
	}
	for i, l := range layers {
		name := fmt.Sprintf("layer %d", i)
		if i < len(diffIDs) {
			name += " (" + diffIDs[i].String() + ")"
		}
		if err := unpackLayer(ctx, name, l, tmp); err != nil {
			return fmt.Errorf("unpacking into %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Lstat(dir); serr == nil {
			return nil // unpacked meanwhile by someone else
		}
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	return nil
}

func unpackLayer(ctx context.Context, name string, l v1.Layer, root string) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	return archive.Extract(ctx, name, rc, root, archive.Layer())
}
