package builder

import (
	"context"
	"fmt"
	"io"

	"github.com/distill-build/distill/internal/buildpack"
)

// Builder is a builder ready to build: its buildpacks and extensions on disk,
// its order, and the references of its build and run images.
type Builder struct {
	Config     *Config
	Buildpacks []*buildpack.Descriptor
	Extensions []*buildpack.Descriptor
}

// Load reads builder.toml and prepares every buildpack and extension it names.
func Load(ctx context.Context, path string, log io.Writer) (*Builder, error) {
	cfg, err := ReadConfig(path)
	if err != nil {
		return nil, err
	}
	b := &Builder{Config: cfg}
	for _, m := range cfg.Buildpacks {
		d, err := PrepareModule(ctx, cfg.Resolve(m.URI), log)
		if err != nil {
			return nil, fmt.Errorf("%s: [[buildpacks]] uri %q: %w", cfg.Path, m.URI, err)
		}
		b.Buildpacks = append(b.Buildpacks, d)
	}
	for _, m := range cfg.Extensions {
		d, err := PrepareModule(ctx, cfg.Resolve(m.URI), log)
		if err != nil {
			return nil, fmt.Errorf("%s: [[extensions]] uri %q: %w", cfg.Path, m.URI, err)
		}
		b.Extensions = append(b.Extensions, d)
	}
	if err := b.checkOrder(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Path, err)
	}
	return b, nil
}

// checkOrder verifies that every group member is one of the builder's modules.
func (b *Builder) checkOrder() error {
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
