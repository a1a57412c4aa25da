package builderimage

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/distill-build/distill/internal/cacheprune"
	"github.com/distill-build/distill/internal/cnbmeta"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/archive"
	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/buildpack"
)

// FromImage reads a builder image (from distill builder create or pack
// builder create): its buildpacks and extensions are extracted, from their
// layers only, into cacheDir/<image digest>/cnb, and its order and run images
// come from the labels. The image itself is the build image.
func FromImage(ctx context.Context, ref string, img v1.Image, cacheDir string) (*builder.Builder, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading builder image %s: %w", ref, err)
	}
	labels := cf.Config.Labels
	var md BuilderMetadata
	if err := unmarshalLabel(labels, LabelBuilderMetadata, &md, true); err != nil {
		return nil, fmt.Errorf("builder image %s: %w", ref, err)
	}
	var order, orderExt buildpack.Order
	var bpLayers, exLayers ModuleLayers
	for _, l := range []struct {
		key      string
		v        any
		required bool
	}{{LabelBuildpackOrder, &order, true}, {LabelBuildpackLayers, &bpLayers, true}, {LabelOrderExtensions, &orderExt, false}, {LabelExtensionLayers, &exLayers, false}} {
		if err := unmarshalLabel(labels, l.key, l.v, l.required); err != nil {
			return nil, fmt.Errorf("builder image %s: %w", ref, err)
		}
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(cacheDir, digest.Hex)
	if _, err := os.Stat(root); err != nil {
		if err := extractModules(ctx, img, bpLayers, exLayers, root); err != nil {
			return nil, fmt.Errorf("builder image %s: %w", ref, err)
		}
	}
	if err := cacheprune.Use(root); err != nil {
		return nil, err
	}
	cfg := &builder.Config{
		Description:     md.Description,
		Order:           order,
		OrderExtensions: orderExt,
		Build:           builder.BuildConfig{Image: ref},
		Path:            ref,
	}
	for _, r := range md.RunImages {
		cfg.Run.Images = append(cfg.Run.Images, builder.RunImage{Image: r.Image, Mirrors: r.Mirrors})
	}
	if len(cfg.Run.Images) == 0 && md.Stack.RunImage.Image != "" {
		cfg.Run.Images = []builder.RunImage{{Image: md.Stack.RunImage.Image, Mirrors: md.Stack.RunImage.Mirrors}}
	}
	if len(cfg.Run.Images) == 0 {
		return nil, fmt.Errorf("builder image %s names no run image", ref)
	}
	cfg.Stack.ID = labels[cnbmeta.LabelStackID]
	b := &builder.Builder{Config: cfg}
	for _, m := range []struct {
		layers ModuleLayers
		kind   string
		list   *[]*buildpack.Descriptor
	}{{bpLayers, "buildpacks", &b.Buildpacks}, {exLayers, "extensions", &b.Extensions}} {
		for _, id := range slices.Sorted(maps.Keys(m.layers)) {
			for _, version := range slices.Sorted(maps.Keys(m.layers[id])) {
				d, err := buildpack.ReadDescriptor(filepath.Join(root, "cnb", m.kind, buildpack.EscapedID(id), version))
				if err != nil {
					return nil, fmt.Errorf("builder image %s: %w", ref, err)
				}
				*m.list = append(*m.list, d)
			}
		}
	}
	if err := b.CheckOrder(); err != nil {
		return nil, fmt.Errorf("builder image %s: %w", ref, err)
	}
	return b, nil
}

func unmarshalLabel(labels map[string]string, key string, v any, required bool) error {
	s, ok := labels[key]
	if !ok {
		if required {
			return fmt.Errorf("no %s label: not a builder image", key)
		}
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("label %s: %w", key, err)
	}
	return nil
}

// extractModules writes the entries under /cnb/buildpacks and /cnb/extensions
// of the modules' layers into root (through a temporary sibling, renamed at the end).
func extractModules(ctx context.Context, img v1.Image, bp, ex ModuleLayers, root string) error {
	layerSets := []ModuleLayers{bp, ex}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(root), "."+filepath.Base(root)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	seen := map[string]bool{}
	for _, set := range layerSets {
		for _, versions := range set {
			for _, info := range versions {
				if seen[info.LayerDiffID] {
					continue
				}
				seen[info.LayerDiffID] = true
				h, err := v1.NewHash(info.LayerDiffID)
				if err != nil {
					return err
				}
				l, err := img.LayerByDiffID(h)
				if err != nil {
					return fmt.Errorf("layer %s: %w", info.LayerDiffID, err)
				}
				if err := extractCNB(ctx, info.LayerDiffID, l, tmp); err != nil {
					return err
				}
			}
		}
	}
	if err := os.Rename(tmp, root); err != nil {
		if _, serr := os.Stat(root); serr == nil {
			return nil // extracted meanwhile by another build
		}
		return err
	}
	return nil
}

// extractCNB writes the entries of layer l under cnb/buildpacks/ and
// cnb/extensions/ into dir through archive.Extract: nothing lands outside
// dir, and symlinks leading out of it, devices and setuid files fail the
// extraction, naming the layer and the entry.
func extractCNB(ctx context.Context, diffID string, l v1.Layer, dir string) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return fmt.Errorf("layer %s: %w", diffID, err)
	}
	defer rc.Close()
	return archive.Extract(ctx, "layer "+diffID, rc, dir, archive.Under("cnb/buildpacks/", "cnb/extensions/"))
}
