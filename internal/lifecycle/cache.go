package lifecycle

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/distill-build/distill/internal/buildpack"
)

// Cache is a local directory holding the layers buildpacks marked cache = true
// and the diff IDs of the last build's layers. It is replaced as a whole after
// a successful build, so a failed build never leaves it half-written.
type Cache struct {
	Dir string
}

const cacheMetadataFile = "cache.json"

type cacheMetadata struct {
	// Layers maps an exported layer name ("distill/go:app") to its diff ID.
	Layers map[string]string `json:"layers"`
}

// previous returns the diff IDs of the last build's exported layers.
func (c *Cache) previous() map[string]string {
	var md cacheMetadata
	b, err := os.ReadFile(filepath.Join(c.Dir, cacheMetadataFile))
	if err != nil || json.Unmarshal(b, &md) != nil {
		return map[string]string{}
	}
	return md.Layers
}

// Restore copies the cached layers of the group's buildpacks into the layers
// directory and returns their names ("distill/go:go-mod").
func (c *Cache) Restore(group []*buildpack.Descriptor, layersDir string, log io.Writer) ([]string, error) {
	var restored []string
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
			if err := copyTree(filepath.Join(src, l.Name+".toml"), dst); err != nil {
				return nil, err
			}
			if _, err := os.Stat(l.Path); err == nil {
				if err := copyTree(l.Path, dst); err != nil {
					return nil, err
				}
			}
			fmt.Fprintf(log, "Restoring cached layer %s:%s\n", desc.Info().ID, l.Name)
			restored = append(restored, desc.Info().ID+":"+l.Name)
		}
	}
	return restored, nil
}

// Save replaces the cache with the cache = true layers of this build and the
// diff IDs of the exported layers.
func (c *Cache) Save(res *BuildResult, exported []ExportedLayer) error {
	next := c.Dir + ".next"
	if err := os.RemoveAll(next); err != nil {
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
			if err := copyTree(filepath.Join(bp.Dir, l.Name+".toml"), dst); err != nil {
				return err
			}
			if _, err := os.Stat(l.Path); err == nil {
				if err := copyTree(l.Path, dst); err != nil {
					return err
				}
			}
		}
	}
	md := cacheMetadata{Layers: map[string]string{}}
	for _, l := range exported {
		if !l.RunImage {
			md.Layers[l.Name] = l.DiffID
		}
	}
	b, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(next, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(next, cacheMetadataFile), b, 0o644); err != nil {
		return err
	}
	old := c.Dir + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(c.Dir, old); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("replacing cache %s: %w", c.Dir, err)
	}
	if err := os.Rename(next, c.Dir); err != nil {
		return fmt.Errorf("replacing cache %s: %w", c.Dir, err)
	}
	return os.RemoveAll(old)
}

// Clear removes the cache.
func (c *Cache) Clear() error { return os.RemoveAll(c.Dir) }

// copyTree copies src into the directory dst with cp -a, which keeps
// symlinks, modes and owners (the CNB user's) as they are.
func copyTree(src, dst string) error {
	out, err := exec.Command("cp", "-a", "--reflink=auto", src, dst+"/").CombinedOutput()
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w: %s", src, dst, err, out)
	}
	return nil
}
