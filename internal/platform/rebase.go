package platform

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/lifecycle"
	"github.com/distill-build/distill/internal/stack"
)

// RebaseOptions configure Rebase.
type RebaseOptions struct {
	// Image is the app image: oci:DIR or a registry reference.
	Image string
	// RunImage is the new run image: a reference (distill's stack images
	// first, then the local store, the registry, the daemon) or oci:DIR.
	// Default: the run image the app's metadata names, resolved anew, so a
	// changed stack definition is rebuilt and a registry tag pulled again.
	RunImage string
	// Output is where the rebased image goes (a target as -o reads it);
	// default: back where Image was read from.
	Output string
	// Force rebases onto another run image than the one the app names.
	Force bool
	// BuilderFiles and Binary are the builder this binary carries, whose
	// stacks define distill/run:*.
	BuilderFiles fs.FS
	Binary       *builder.Binary
	Log          io.Writer
}

// RebaseReport says what a rebase did.
type RebaseReport struct {
	lifecycle.Rebased
	Target   string
	Digest   string
	Duration time.Duration
}

// Rebase swaps the run image under an app image for the newest run image
// (lifecycle.Rebase: pack rebase's contract) and writes the result, without
// a daemon: the app's own layers are not read, only copied (a registry
// mounts them; an OCI layout links them).
func Rebase(ctx context.Context, o RebaseOptions) (*RebaseReport, error) {
	start := time.Now()
	if o.Log == nil {
		o.Log = io.Discard
	}
	app, target, err := rebaseSource(ctx, o.Image, o.Output)
	if err != nil {
		return nil, err
	}
	runRef := o.RunImage
	if runRef == "" {
		if runRef, err = lifecycle.RecordedRunImage(app); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Image, err)
		}
		if runRef == "" {
			return nil, fmt.Errorf("%s: the lifecycle metadata names no run image; pass --run-image", o.Image)
		}
	}
	run, err := o.resolveRunImage(ctx, runRef)
	if err != nil {
		return nil, err
	}
	published, err := run.Digest()
	if err != nil {
		return nil, fmt.Errorf("run image %s: %w", runRef, err)
	}
	if run, err = image.Recompressed(run, compressionOf(app), filepath.Join(CacheRoot(), "blobs")); err != nil {
		return nil, fmt.Errorf("recompressing run image %s: %w", runRef, err)
	}
	img, rebased, err := lifecycle.Rebase(app, run, lifecycle.RebaseOptions{RunImageRef: runRef, RunImageDigest: published, Force: o.Force})
	if err != nil {
		return nil, fmt.Errorf("rebasing %s onto %s: %w", o.Image, runRef, err)
	}
	if err := target.Write(ctx, img); err != nil {
		return nil, fmt.Errorf("writing the rebased image to %s: %w", target, err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing the rebased image's digest: %w", err)
	}
	return &RebaseReport{Rebased: rebased, Target: target.String(), Digest: d.String(), Duration: time.Since(start)}, nil
}

// rebaseSource reads the app image (oci:DIR or a registry reference) and
// picks where the result goes: output, else where it was read from.
func rebaseSource(ctx context.Context, ref, output string) (v1.Image, image.Target, error) {
	var target image.Target
	var img v1.Image
	var err error
	switch {
	case strings.HasPrefix(ref, "daemon:"):
		return nil, nil, fmt.Errorf("rebase %s: rebase works without a daemon on registry images and oci:DIR layouts; push the image or write it with -o oci:DIR", ref)
	case strings.HasPrefix(ref, "oci:"):
		img, err = image.Resolve(ctx, ref)
		target = image.OCILayout(strings.TrimPrefix(ref, "oci:"))
	default:
		r, perr := name.ParseReference(strings.TrimPrefix(ref, "registry:"))
		if perr != nil {
			return nil, nil, fmt.Errorf("rebase: %q is neither oci:DIR nor a registry reference: %w", ref, perr)
		}
		img, err = image.Resolve(ctx, r.String(), image.WithSources(image.FromRegistry))
		target = image.Registry(r)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("rebase: reading %s: %w", ref, err)
	}
	if output != "" {
		if target, err = image.ParseTarget(output); err != nil {
			return nil, nil, fmt.Errorf("-o: %w", err)
		}
	}
	return img, target, nil
}

// resolveRunImage finds the new run image: oci:DIR as it is; a reference
// through the stacks of the builder this binary carries (a stack image whose
// definition changed is rebuilt), then the store, the registry, the daemon.
func (o RebaseOptions) resolveRunImage(ctx context.Context, ref string) (v1.Image, error) {
	if strings.HasPrefix(ref, "oci:") {
		return image.Resolve(ctx, ref)
	}
	stacksDir := ""
	if o.BuilderFiles != nil && o.Binary != nil {
		b, err := LoadBuilder(ctx, "", o.BuilderFiles, o.Binary, o.Log)
		if err != nil {
			return nil, err
		}
		stacksDir = b.StacksDir()
	}
	images, err := stack.NewImages(stacksDir, o.Log)
	if err != nil {
		return nil, err
	}
	images.Options = append(images.Options, image.WithSources(image.FromStore, image.FromRegistry, image.FromDaemon))
	img, err := images.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("run image %s: %w", ref, err)
	}
	return img, nil
}

// compressionOf is the compression of app's top layer, which the new run
// image's layers are given too.
func compressionOf(app v1.Image) image.Compression {
	layers, err := app.Layers()
	if err != nil || len(layers) == 0 {
		return image.Zstd
	}
	mt, err := layers[len(layers)-1].MediaType()
	if err == nil && mt == types.OCILayerZStd {
		return image.Zstd
	}
	return image.Gzip
}
