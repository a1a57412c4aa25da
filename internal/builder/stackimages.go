package builder

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/stack"
)

// NewImages returns the image resolver for the builder.toml at configPath:
// stacks/ next to it, the local image store, then daemon and registry.
func NewImages(configPath string, log io.Writer) (*Images, error) {
	dir, err := image.DefaultStoreDir()
	if err != nil {
		return nil, err
	}
	store, err := image.OpenStore(dir)
	if err != nil {
		return nil, err
	}
	stacks := ""
	if configPath != "" {
		stacks = filepath.Join(filepath.Dir(configPath), "stacks")
	}
	return &Images{Store: store, StacksDir: stacks, Log: log}, nil
}

// StackRefs lists the images the stacks directory defines.
func (i *Images) StackRefs() ([]string, error) {
	if i.StacksDir == "" {
		return nil, nil
	}
	defs, err := stack.LoadDir(i.StacksDir)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, d := range defs {
		refs = append(refs, d.Ref())
	}
	return refs, nil
}

// PublishStacks pushes every stack image of the stacks directory to
// prefix/<repository>:<tag> (distill/run:base → 127.0.0.1:5000/distill/run:base)
// and points the builder's build and run images at the pushed copies, so a
// builder published next to them names images its users can pull.
func (b *Builder) PublishStacks(ctx context.Context, images *Images, prefix string, log io.Writer) error {
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
		n, _ := normalize(ref)
		renamed[n] = dst.String()
	}
	rename := func(ref string) string {
		if n, err := normalize(ref); err == nil && renamed[n] != "" {
			return renamed[n]
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
