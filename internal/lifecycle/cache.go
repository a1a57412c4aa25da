package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/distill-build/distill/internal/buildpack"
)

// Cache is a local directory holding the layers buildpacks marked cache = true,
// the diff IDs of the last build's layers (by LayerID.Key), and blobs/: the
// compressed blobs of the last build's layers and the sizes of its layers, by
// diff ID (see image.LayerFromTarFile and image.UncompressedSize).
//
// Layers move rather than copy: Restore moves them into the build, Save moves
// the build's cache layers into a fresh cache directory that replaces the old
// one in a rename, and Return gives restored layers back when a build fails.
// The cache is never half-written; a build killed outright leaves it with
// fewer layers, never with broken ones.
type Cache struct {
	Dir string

	restored []restoredLayer
}

type restoredLayer struct {
	cached, build string // layer directory in the cache and in the build
}

const cacheMetadataFile = "cache.json"

type cacheMetadata struct {
	// Layers maps an exported layer's LayerID.Key() ("distill/go:app") to its diff ID.
	Layers map[string]string `json:"layers"`
}

// previous returns the diff IDs of the last build's exported layers.
func (c *Cache) previous() map[string]string {
	var md cacheMetadata
	b, err := os.ReadFile(filepath.Join(c.Dir, cacheMetadataFile))
	if err != nil || json.Unmarshal(b, &md) != nil || md.Layers == nil {
		return map[string]string{}
	}
	return md.Layers
}

// Restore moves the cached layers of the group's buildpacks into the layers
// directory and returns their names ("distill/go:go-mod").
func (c *Cache) Restore(group []*buildpack.Descriptor, layersDir string, log io.Writer) ([]string, error) {
	var names []string
	for _, desc := range group {
		esc := buildpack.EscapedID(desc.Info().ID)
		src := filepath.Join(c.Dir, "layers", esc)
		layers, err := buildpack.ReadLayers(src)
		if err != nil {
			return nil, err
		}
		dst := filepath.Join(layersDir, esc)
		for _, l := range layers {
			if !l.Types.Cache {
				continue
			}
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return nil, err
			}
			if err := copyMetadata(src, l.Name, dst); err != nil {
				return nil, err
			}
			if _, err := os.Lstat(l.Path); err == nil {
				target := filepath.Join(dst, l.Name)
				if err := moveTree(l.Path, target); err != nil {
					return nil, err
				}
				c.restored = append(c.restored, restoredLayer{cached: l.Path, build: target})
			}
			fmt.Fprintf(log, "Restoring cached layer %s:%s\n", desc.Info().ID, l.Name)
			names = append(names, desc.Info().ID+":"+l.Name)
		}
	}
	return names, nil
}

// Return moves restored layers back into the cache, for a build that failed:
// the next build starts from the same cache.
func (c *Cache) Return() {
	for _, r := range c.restored {
		if _, err := os.Lstat(r.build); err == nil {
			_ = moveTree(r.build, r.cached)
		}
	}
	c.restored = nil
}

// Save replaces the cache with the cache = true layers of this build (moved
// out of the build's layers directory), the diff IDs of the exported layers
// and their blobs and size records.
func (c *Cache) Save(res *BuildResult, exported []ExportedLayer) error {
	next := c.Dir + ".next"
	if err := removeAll(next); err != nil {
		return err
	}
	if err := os.MkdirAll(next, 0o755); err != nil {
		return err
	}
	for _, bp := range res.Buildpacks {
		dst := filepath.Join(next, "layers", buildpack.EscapedID(bp.Desc.Info().ID))
		for _, l := range bp.Layers {
			if !l.Types.Cache {
				continue
			}
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			if err := copyMetadata(bp.Dir, l.Name, dst); err != nil {
				return err
			}
			if _, err := os.Lstat(l.Path); err == nil {
				if err := moveTree(l.Path, filepath.Join(dst, l.Name)); err != nil {
					return err
				}
			}
		}
	}
	md := cacheMetadata{Layers: map[string]string{}}
	for _, l := range exported {
		if l.ID.Kind != RunImageLayer {
			md.Layers[l.ID.Key()] = l.DiffID.String()
		}
		// Keep this build's blobs and size records (<diff ID hex>.tar*), so
		// unchanged layers are neither compressed nor measured again.
		blobs, err := filepath.Glob(filepath.Join(c.blobDir(), l.DiffID.Hex+".tar*"))
		if err != nil {
			return err
		}
		for _, b := range blobs {
			if err := moveTree(b, filepath.Join(next, "blobs", filepath.Base(b))); err != nil {
				return err
			}
		}
	}
	b, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(next, cacheMetadataFile), b, 0o644); err != nil {
		return err
	}
	old := c.Dir + ".old"
	if err := removeAll(old); err != nil {
		return err
	}
	if err := os.Rename(c.Dir, old); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("replacing cache %s: %w", c.Dir, err)
	}
	if err := os.Rename(next, c.Dir); err != nil {
		return fmt.Errorf("replacing cache %s: %w", c.Dir, err)
	}
	c.restored = nil
	return removeAll(old)
}

// blobDir holds compressed layer blobs named by diff ID.
func (c *Cache) blobDir() string { return filepath.Join(c.Dir, "blobs") }

// Clear removes the cache.
func (c *Cache) Clear() error { return removeAll(c.Dir) }

// copyMetadata copies a layer's <name>.toml and its SBOM files
// (<name>.sbom.<ext>.json), which travel with a cached layer.
func copyMetadata(from, name, to string) error {
	files, err := filepath.Glob(filepath.Join(from, name+".sbom.*.json"))
	if err != nil {
		return err
	}
	for _, f := range append([]string{filepath.Join(from, name+".toml")}, files...) {
		if err := copyTree(f, to); err != nil {
			return err
		}
	}
	return nil
}

// moveTree renames src to dst, copying across file systems.
func moveTree(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	err := os.Rename(src, dst)
	if !errors.Is(err, syscall.EXDEV) {
		if err != nil {
			return fmt.Errorf("moving %s to %s: %w", src, dst, err)
		}
		return nil
	}
	if err := copyTree(src, filepath.Dir(dst)); err != nil {
		return err
	}
	if filepath.Base(src) != filepath.Base(dst) {
		if err := os.Rename(filepath.Join(filepath.Dir(dst), filepath.Base(src)), dst); err != nil {
			return err
		}
	}
	return removeAll(src)
}

// copyTree copies src into the directory dst with cp -a, which keeps
// symlinks, modes and owners (the CNB user's) as they are.
func copyTree(src, dst string) error {
	out, err := exec.Command("cp", "-a", "--reflink=auto", src, dst+"/").CombinedOutput()
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w: %s", src, dst, err, out)
	}
	return nil
}
