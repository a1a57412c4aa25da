package builder

import (
	"fmt"
	"path/filepath"

	"github.com/distill-build/distill/internal/buildpack"
)

// Builder is a builder ready to build: its buildpacks and extensions on disk,
// its order, and the references of its build and run images.
type Builder struct {
	Config     *Config
	Buildpacks []*buildpack.Descriptor
	Extensions []*buildpack.Descriptor
}

// StacksDir is the directory of stack definitions that come with the
// builder: stacks/ beside its builder.toml ("" for a builder image).
func (b *Builder) StacksDir() string {
	if !IsConfigFile(b.Config.Path) {
		return ""
	}
	return filepath.Join(filepath.Dir(b.Config.Path), "stacks")
}

// Load reads builder.toml and prepares every buildpack and extension it
// names (see PrepareModule; bin may be nil).
func Load(path string, bin *Binary) (*Builder, error) {
	cfg, err := ReadConfig(path)
	if err != nil {
		return nil, err
	}
	b := &Builder{Config: cfg}
	for _, m := range cfg.Buildpacks {
		d, err := PrepareModule(cfg.Resolve(m.URI), bin)
		if err != nil {
			return nil, fmt.Errorf("%s: [[buildpacks]] uri %q: %w", cfg.Path, m.URI, err)
		}
		b.Buildpacks = append(b.Buildpacks, d)
	}
	for _, m := range cfg.Extensions {
		d, err := PrepareModule(cfg.Resolve(m.URI), bin)
		if err != nil {
			return nil, fmt.Errorf("%s: [[extensions]] uri %q: %w", cfg.Path, m.URI, err)
		}
		b.Extensions = append(b.Extensions, d)
	}
	if err := b.CheckOrder(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Path, err)
	}
	return b, nil
}

// CheckOrder verifies that every group member is one of the builder's modules.
func (b *Builder) CheckOrder() error {
	has := func(list []*buildpack.Descriptor, ref buildpack.Ref) bool {
		for _, d := range list {
			if d.Info().ID == ref.ID && (ref.Version == "" || ref.Version == d.Info().Version) {
				return true
			}
		}
		return false
	}
	for i, g := range b.Config.Order {
		for _, ref := range g.Group {
			if !has(b.Buildpacks, ref) {
				return fmt.Errorf("[[order]] #%d names buildpack %q, which no [[buildpacks]] entry provides", i+1, ref.Key())
			}
		}
	}
	for i, g := range b.Config.OrderExtensions {
		for _, ref := range g.Group {
			if !has(b.Extensions, ref) {
				return fmt.Errorf("[[order-extensions]] #%d names extension %q, which no [[extensions]] entry provides", i+1, ref.Key())
			}
		}
	}
	return nil
}
