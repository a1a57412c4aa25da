package buildpack

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// LayerTypes is the [types] table of <layer>.toml.
type LayerTypes struct {
	Launch bool `toml:"launch" json:"launch"`
	Build  bool `toml:"build" json:"build"`
	Cache  bool `toml:"cache" json:"cache"`
}

// LayerMetadata is <layers>/<layer>.toml.
type LayerMetadata struct {
	Types    LayerTypes     `toml:"types" json:"types"`
	Metadata map[string]any `toml:"metadata,omitempty" json:"data,omitempty"`
}

// Layer is one layer a buildpack left in its layers directory.
type Layer struct {
	Name string
	Path string // directory; may be absent for metadata-only layers
	LayerMetadata
}

// ReadLayers lists the layers in a buildpack's layers directory: every
// <name>.toml except launch.toml, build.toml and store.toml, in name order.
func ReadLayers(dir string) ([]Layer, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading layers %s: %w", dir, err)
	}
	var layers []Layer
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".toml")
		if !ok || e.IsDir() || name == "launch" || name == "build" || name == "store" {
			continue
		}
		l := Layer{Name: name, Path: filepath.Join(dir, name)}
		p := filepath.Join(dir, e.Name())
		if _, err := toml.DecodeFile(p, &l.LayerMetadata); err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		layers = append(layers, l)
	}
	sort.Slice(layers, func(i, j int) bool { return layers[i].Name < layers[j].Name })
	return layers, nil
}

// WriteLayerMetadata writes <dir>/<name>.toml.
func WriteLayerMetadata(dir, name string, md LayerMetadata) error {
	return writeTOML(filepath.Join(dir, name+".toml"), md)
}

func writeTOML(p string, v any) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := toml.NewEncoder(f).Encode(v); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return f.Close()
}

// WriteTOML writes v as TOML to p.
func WriteTOML(p string, v any) error { return writeTOML(p, v) }
