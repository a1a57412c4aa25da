package builderimage

import (
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/stack"
)

// PublishStacks pushes every stack image of the stacks directory to
// prefix/<repository>:<tag> (distill/run:base → 127.0.0.1:5000/distill/run:base)
// and points the builder's build and run images at the pushed copies, so a
// builder published next to them names images its users can pull.
func PublishStacks(ctx context.Context, b *builder.Builder, images *stack.Images, prefix string, log io.Writer) error {
	refs, err := images.StackRefs()
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
		img, err := images.Resolve(ctx, ref)
		if err != nil {
			return err
		}
		if err := image.Registry(dst).Write(ctx, img); err != nil {
			return err
		}
		fmt.Fprintf(log, "Pushed stack image %s to %s\n", ref, dst)
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
