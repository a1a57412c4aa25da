package builderimage

import (
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/stack"
)

// PublishStacks pushes every stack image of the stacks directory to
// prefix/<repository>:<tag> (distill/run:base → 127.0.0.1:5000/distill/run:base)
// and points the builder's build and run images at the pushed copies, so a
// builder published next to them names images its users can pull. stacks
// holds one resolver per platform (same StacksDir, Arch set): with one, each
// stack goes as one image; with several, as the image index of platforms
// (stacks[i] resolves platforms[i]'s images).
func PublishStacks(ctx context.Context, b *builder.Builder, stacks []*stack.Images, platforms []v1.Platform, prefix string, log io.Writer) error {
	if len(stacks) == 0 || len(stacks) != len(platforms) {
		return fmt.Errorf("publishing stacks: %d resolvers for %d platforms", len(stacks), len(platforms))
	}
	refs, err := stacks[0].StackRefs()
	if err != nil {
		return err
	}
	renamed := map[string]string{}
	for _, ref := range refs {
		r, err := name.ParseReference(ref)
		if err != nil {
			return err
		}
		tag := "latest"
		if t, ok := r.(name.Tag); ok {
			tag = t.TagStr()
		}
		dst, err := name.ParseReference(prefix + "/" + r.Context().RepositoryStr() + ":" + tag)
		if err != nil {
			return fmt.Errorf("--stack-registry %q: %w", prefix, err)
		}
		all := image.PlatformImages{Platforms: platforms, What: "stack image " + ref}
		for _, images := range stacks {
			img, err := images.Resolve(ctx, ref)
			if err != nil {
				return err
			}
			all.Images = append(all.Images, img)
		}
		if err := all.WriteAll(ctx, []image.Target{image.Registry(dst)}, log); err != nil {
			return err
		}
		renamed[r.Name()] = dst.String()
	}
	rename := func(ref string) string {
		if r, err := name.ParseReference(ref); err == nil && renamed[r.Name()] != "" {
			return renamed[r.Name()]
		}
		return ref
	}
	c := b.Config
	c.Build.Image = rename(c.Build.Image)
	c.Stack.BuildImage = rename(c.Stack.BuildImage)
	c.Stack.RunImage = rename(c.Stack.RunImage)
	for i := range c.Run.Images {
		c.Run.Images[i].Image = rename(c.Run.Images[i].Image)
	}
	return nil
}
