package platform

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/builderimage"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/stack"
)

// LoadBuilder returns the builder ref names: "" for the one this binary
// carries (files, run by bin; written once under CacheRoot), the path of a
// builder.toml, or a builder image (a reference, or oci:DIR) from distill or
// pack builder create, whose buildpacks are extracted under CacheRoot.
func LoadBuilder(ctx context.Context, ref string, files fs.FS, bin *builder.Binary, log io.Writer) (*builder.Builder, error) {
	switch {
	case ref == "":
		if files == nil || bin == nil {
			return nil, fmt.Errorf("this program carries no builder: pass --builder")
		}
		return builder.Embedded(files, bin, filepath.Join(CacheRoot(), "builder"))
	case builder.IsConfigFile(ref):
		return builder.Load(ref, bin)
	}
	img, err := builderImages(log).Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("builder %s: %w", ref, err)
	}
	return builderimage.FromImage(ctx, ref, img, filepath.Join(CacheRoot(), "builders"))
}

// builderImages resolves the images of a builder image. A builder image names
// run images its users pull: ask the registry before the daemon, whose copy
// may not be readable back through the Docker API.
func builderImages(log io.Writer) *stack.Images {
	images, err := stack.NewImages("", log)
	if err != nil {
		return &stack.Images{Log: log}
	}
	images.Options = append(images.Options, image.WithSources(image.FromStore, image.FromRegistry, image.FromDaemon))
	return images
}

// Images are a builder's images, resolved before its lifecycle starts:
// every run image and every other stack image its stacks define (a run image
// extension may pick any of them); the build image when BuildImage is called
// (a direct build runs in it and never needs it).
type Images struct {
	RunRefs []string // the builder's run images, the default first
	// TargetRoot is the build image's target root for a foreign
	// architecture (stack.Images.TargetRoot); nil for the running one, or
	// when the builder's stacks define none.
	TargetRoot v1.Image

	buildRef string
	resolved map[string]v1.Image
	stacks   *stack.Images
	others   *stack.Images
}

// ResolveImages resolves b's images, building stack images on first use.
// Run images and the other stack images are for arch (GOARCH; "" for the
// running architecture's); the build image is always the running
// architecture's: buildpacks run natively and build for CNB_TARGET_ARCH.
func ResolveImages(ctx context.Context, b *builder.Builder, arch string, log io.Writer) (*Images, error) {
	var resolver *stack.Images
	if b.StacksDir() == "" {
		resolver = builderImages(log)
	} else {
		var err error
		if resolver, err = stack.NewImages(b.StacksDir(), log); err != nil {
			return nil, err
		}
	}
	refs, err := resolver.StackRefs()
	if err != nil {
		return nil, err
	}
	host := *resolver
	resolver.Arch = arch
	imgs := &Images{
		buildRef: b.Config.Build.Image, resolved: map[string]v1.Image{}, stacks: &host,
		others: &stack.Images{Store: resolver.Store, Log: log, Options: resolver.Options, Arch: arch},
	}
	for _, r := range b.Config.RunImages() {
		imgs.RunRefs = append(imgs.RunRefs, r.Image)
	}
	for _, ref := range append(imgs.RunRefs, refs...) {
		if _, ok := imgs.resolved[ref]; ok || stack.SameRef(ref, imgs.buildRef) {
			continue
		}
		img, err := resolver.Resolve(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("%s: image %s: %w", b.Config.Path, ref, err)
		}
		imgs.resolved[ref] = img
	}
	if imgs.TargetRoot, err = resolver.TargetRoot(ctx, imgs.buildRef); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Config.Path, err)
	}
	return imgs, nil
}

// BuildImage resolves the build image, building its stack on first use.
func (i *Images) BuildImage(ctx context.Context) (v1.Image, error) {
	img, err := i.stacks.Resolve(ctx, i.buildRef)
	if err != nil {
		return nil, fmt.Errorf("build image %s: %w", i.buildRef, err)
	}
	return img, nil
}

// Resolve returns an image resolved up front, else looks ref up in the
// store, the daemon or the registry; it never builds a stack image.
func (i *Images) Resolve(ctx context.Context, ref string) (v1.Image, error) {
	if img, ok := i.resolved[ref]; ok {
		return img, nil
	}
	return i.others.Resolve(ctx, ref)
}
