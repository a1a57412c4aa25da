package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/image"
)

// Images resolves build and run image references: first the stacks defined
// in StacksDir (built from Debian packages on first use and kept in the local
// store, rebuilt when their definition changes), then the store, the daemon
// and the registry. Arch (GOARCH; "" for the running architecture's) picks
// the architecture of the images resolved.
type Images struct {
	Store     *image.Store
	StacksDir string
	Log       io.Writer
	Options   []image.Option
	Arch      string
}

// NewImages returns the resolver for the stack definitions in stacksDir
// ("" for none), over the local image store under the user cache directory.
func NewImages(stacksDir string, log io.Writer) (*Images, error) {
	dir, err := image.DefaultStoreDir()
	if err != nil {
		return nil, err
	}
	store, err := image.OpenStore(dir)
	if err != nil {
		return nil, err
	}
	return &Images{Store: store, StacksDir: stacksDir, Log: log}, nil
}

// StackRefs lists the images StacksDir defines, but for target roots
// (target_of), which only builds for a foreign architecture use (TargetRoot).
func (i *Images) StackRefs() ([]string, error) {
	if i.StacksDir == "" {
		return nil, nil
	}
	defs, err := LoadDir(i.StacksDir)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, d := range defs {
		if d.TargetOf == "" {
			refs = append(refs, d.Ref())
		}
	}
	return refs, nil
}

// TargetRoot resolves, for a foreign Arch, the target root of the build
// image buildRef (the stack whose target_of names it), building it on first
// use. It returns nil, with no error, for the running architecture, or when
// StacksDir defines no target root of buildRef.
func (i *Images) TargetRoot(ctx context.Context, buildRef string) (v1.Image, error) {
	if !i.foreign() || i.StacksDir == "" {
		return nil, nil
	}
	defs, err := LoadDir(i.StacksDir)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if d.TargetOf != "" && SameRef(d.TargetOf, buildRef) {
			img, err := i.stackImage(ctx, d)
			if err != nil {
				return nil, fmt.Errorf("target root %s of %s: %w", d.Ref(), buildRef, err)
			}
			return img, nil
		}
	}
	return nil, nil
}

// Resolve returns the image named ref.
func (i *Images) Resolve(ctx context.Context, ref string) (v1.Image, error) {
	if def, err := i.definition(ref); err != nil {
		return nil, err
	} else if def != nil {
		return i.stackImage(ctx, def)
	}
	opts := []image.Option{image.WithStore(i.Store)}
	if i.foreign() {
		opts = append(opts, image.WithPlatform(v1.Platform{OS: "linux", Architecture: i.Arch}))
	}
	return image.Resolve(ctx, ref, append(opts, i.Options...)...)
}

// foreign reports whether i resolves images for another architecture than
// the running one.
func (i *Images) foreign() bool { return i.Arch != "" && i.Arch != runtime.GOARCH }

// storeRef is the name a stack image is kept under in the store: ref for the
// running architecture, ref with "-ARCH" appended to its tag for another
// (distill/run:base-arm64), so images of two architectures never collide.
func (i *Images) storeRef(ref string) string {
	if !i.foreign() {
		return ref
	}
	r, err := name.NewTag(ref)
	if err != nil {
		return ref + "-" + i.Arch
	}
	return r.Context().Tag(r.TagStr() + "-" + i.Arch).String()
}

func (i *Images) definition(ref string) (*Definition, error) {
	if i.StacksDir == "" {
		return nil, nil
	}
	if _, err := os.Stat(i.StacksDir); err != nil {
		return nil, nil
	}
	defs, err := LoadDir(i.StacksDir)
	if err != nil {
		return nil, err
	}
	return find(defs, ref), nil
}

func (i *Images) stackImage(ctx context.Context, def *Definition) (v1.Image, error) {
	key := i.storeRef(def.Ref())
	if img, err := i.Store.Get(key); err == nil {
		if cf, err := img.ConfigFile(); err == nil && cf.Config.Labels[LabelDefinition] == def.Digest() {
			return img, nil
		}
	} else if !errors.Is(err, image.ErrNotFound) {
		return nil, err
	}
	opts := []Option{WithProgress(i.Log)}
	what := def.Ref()
	if i.foreign() {
		opts = append(opts, WithArch(i.Arch))
		what += " for linux/" + i.Arch
	}
	fmt.Fprintf(i.Log, "Building stack image %s from %s (first use; cached afterwards)\n", what, filepath.Base(def.File()))
	img, err := Build(ctx, def, opts...)
	if err != nil {
		return nil, fmt.Errorf("building stack %s from %s: %w", what, def.File(), err)
	}
	if err := i.Store.Put(ctx, key, img); err != nil {
		return nil, err
	}
	return i.Store.Get(key)
}

// SameRef reports whether two references name the same image
// ("distill/run:base" and its fully qualified form).
func SameRef(a, b string) bool {
	na, errA := normalize(a)
	nb, errB := normalize(b)
	return errA == nil && errB == nil && na == nb
}

// normalize makes "distill/run:static" and its fully qualified form equal.
func normalize(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	return r.Name(), nil
}
