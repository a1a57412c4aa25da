package image

import (
	"context"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Index is the OCI image index of imgs, one manifest per platform in the
// order given, each descriptor carrying its platform (OCI image-spec
// image-index.md, "platform"). An error when the two lists differ in length.
func Index(platforms []v1.Platform, imgs []v1.Image) (v1.ImageIndex, error) {
	if len(platforms) != len(imgs) {
		return nil, fmt.Errorf("image index: %d platforms for %d images", len(platforms), len(imgs))
	}
	adds := make([]mutate.IndexAddendum, len(imgs))
	for i, img := range imgs {
		mt, err := img.MediaType()
		if err != nil {
			return nil, fmt.Errorf("image index: the %s image: %w", platforms[i], err)
		}
		p := platforms[i]
		adds[i] = mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{MediaType: mt, Platform: &p}}
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	return mutate.AppendManifests(idx, adds...), nil
}

// PlatformImages are the images of one build, one per platform.
type PlatformImages struct {
	Platforms []v1.Platform
	Images    []v1.Image // Images[i] is for Platforms[i]
	// Main is the index of the image a target that holds one image gets
	// (a daemon, a docker archive): usually the host's platform.
	Main int
	// What names the images in the log: "image", "builder".
	What string
}

// WriteAll writes p to every target: with one image, that image; with
// several, their Index to every IndexTarget and the Main image to the
// others. Each write is logged to log; the first failure is returned,
// naming the target.
func (p PlatformImages) WriteAll(ctx context.Context, targets []Target, log io.Writer) error {
	var idx v1.ImageIndex
	if len(p.Images) > 1 {
		var err error
		if idx, err = Index(p.Platforms, p.Images); err != nil {
			return err
		}
	}
	for _, t := range targets {
		it, ok := t.(IndexTarget)
		switch {
		case idx == nil:
			if err := t.Write(ctx, p.Images[0]); err != nil {
				return fmt.Errorf("writing %s to %s: %w", p.What, t, err)
			}
			fmt.Fprintf(log, "Wrote %s to %s\n", p.What, t)
		case ok:
			if err := it.WriteIndex(ctx, idx); err != nil {
				return fmt.Errorf("writing %s index to %s: %w", p.What, t, err)
			}
			d, err := idx.Digest()
			if err != nil {
				return fmt.Errorf("%s index digest: %w", p.What, err)
			}
			fmt.Fprintf(log, "Wrote %s to %s (image index %s: %s)\n", p.What, t, d, PlatformList(p.Platforms))
		default:
			if err := t.Write(ctx, p.Images[p.Main]); err != nil {
				return fmt.Errorf("writing %s to %s: %w", p.What, t, err)
			}
			fmt.Fprintf(log, "Wrote %s to %s (the %s image only: it holds one platform)\n", p.What, t, p.Platforms[p.Main])
		}
	}
	return nil
}

// PlatformList is ps as "linux/amd64, linux/arm64/v8".
func PlatformList(ps []v1.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
