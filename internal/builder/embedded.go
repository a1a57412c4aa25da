package builder

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/distill-build/distill/internal/cacheprune"
)

// Embedded is the builder the binary carries: files (builder.toml at the
// root, stacks/*.toml, the modules' descriptors; see distill.BuilderFiles)
// are written once per binary into dir/<digest of the binary>, each module
// gets the binary as its bin/, and the result loads like any builder.toml.
// A failed write leaves nothing behind.
func Embedded(files fs.FS, bin *Binary, dir string) (*Builder, error) {
	sum, err := bin.Digest()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, sum[:16])
	if !exists(filepath.Join(root, "builder.toml")) {
		if err := materialize(files, bin, root); err != nil {
			return nil, fmt.Errorf("writing the embedded builder to %s: %w", root, err)
		}
	}
	if err := cacheprune.Use(root); err != nil {
		return nil, err
	}
	return Load(filepath.Join(root, "builder.toml"), bin)
}

// materialize writes files and the modules' binaries into a temporary
// directory beside root, then renames it to root.
func materialize(files fs.FS, bin *Binary, root string) error {
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(root), ".builder-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.CopyFS(tmp, files); err != nil {
		return err
	}
	cfg, err := ReadConfig(filepath.Join(tmp, "builder.toml"))
	if err != nil {
		return err
	}
	for _, m := range append(cfg.Buildpacks, cfg.Extensions...) {
		if _, err := PrepareModule(cfg.Resolve(m.URI), bin); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, root); err != nil && !exists(filepath.Join(root, "builder.toml")) {
		return err
	}
	return nil
}
