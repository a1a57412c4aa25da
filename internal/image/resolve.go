package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/client"
)

// Source is a place Resolve looks for an image.
type Source int

const (
	// FromStore looks in the local Store (WithStore).
	FromStore Source = iota
	// FromDaemon asks the Docker API (DaemonHost), when it answers.
	FromDaemon
	// FromRegistry pulls the manifest from the registry (layers are fetched when read).
	FromRegistry
)

func (s Source) String() string {
	switch s {
	case FromStore:
		return "store"
	case FromDaemon:
		return "daemon"
	case FromRegistry:
		return "registry"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// Resolve finds the image ref. "oci:<dir>" reads an OCI image layout; any
// other ref is looked up in the sources of WithSources, in order (default:
// the store given by WithStore, the daemon if it answers, the registry with
// the default keychain for platform linux/GOARCH). The error matches
// ErrNotFound when no source has the image.
func Resolve(ctx context.Context, ref string, opts ...Option) (v1.Image, error) {
	o := makeOptions(opts...)
	if dir, ok := strings.CutPrefix(ref, "oci:"); ok {
		return readLayout(dir, o.platform)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", ref, err)
	}
	var errs []error
	var tried []string
	for _, src := range o.sources {
		var img v1.Image
		var err error
		switch src {
		case FromStore:
			if o.store == nil {
				continue
			}
			img, err = o.store.Get(ref)
		case FromDaemon:
			img, err = fromDaemon(ctx, r, o)
		case FromRegistry:
			img, err = fromRegistry(ctx, r, o)
		default:
			err = fmt.Errorf("unknown source %v", src)
		}
		if err == nil && img != nil {
			return img, nil
		}
		tried = append(tried, src.String())
		if err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	nf := &NotFoundError{Ref: ref, Where: strings.Join(tried, ", ")}
	if len(tried) == 0 {
		nf.Where = "no source"
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("resolving %s: %w", ref, errors.Join(append([]error{nf}, errs...)...))
	}
	return nil, nf
}

// fromDaemon returns (nil, nil) when the daemon does not answer.
func fromDaemon(ctx context.Context, ref name.Reference, o options) (v1.Image, error) {
	c, release, err := o.daemonClient()
	if err != nil {
		return nil, nil
	}
	if err := pingDaemon(ctx, c); err != nil {
		release()
		return nil, nil
	}
	ref = daemonName(ctx, c, ref)
	// The image stays readable after this call returns: the client is not
	// closed here; its idle connections go when it is collected.
	img, err := daemon.Image(ref, daemon.WithClient(c), daemon.WithContext(ctx), daemon.WithFileBufferedOpener())
	if err == nil {
		_, err = img.Manifest() // the daemon saves the image now
	}
	if mc, ok := c.(*client.Client); ok && err != nil && strings.Contains(err.Error(), podmanZstdError) {
		release()
		img, isPodman, err := fromPodman(ctx, mc, ref, o.platform)
		if isPodman {
			return img, err
		}
	}
	if errdefs.IsNotFound(err) {
		return nil, &NotFoundError{Ref: ref.String(), Where: "daemon " + DaemonHost()}
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s from daemon %s: %w", ref, DaemonHost(), err)
	}
	return img, nil
}

// daemonName is the daemon's own name for a tag ref, which can differ from
// the Docker Hub name go-containerregistry gives a short name: podman keeps
// "app:1" as localhost/app:1, while the daemon package asks it to save
// index.docker.io/library/app:1. It is ref when one of the image's RepoTags
// is ref's own name, else the first that ends in ref as written, else ref.
func daemonName(ctx context.Context, c daemon.Client, ref name.Reference) name.Reference {
	tag, ok := ref.(name.Tag)
	if !ok {
		return ref
	}
	res, err := c.ImageInspect(ctx, ref.String())
	if err != nil {
		return ref
	}
	var other name.Reference
	for _, rt := range res.RepoTags {
		t, err := name.NewTag(rt)
		switch {
		case err != nil:
		case t.Name() == tag.Name():
			return ref // the daemon knows it by ref's own name
		case other == nil && (rt == ref.String() || strings.HasSuffix(rt, "/"+ref.String())):
			other = t
		}
	}
	if other == nil {
		return ref
	}
	return other
}

func fromRegistry(ctx context.Context, ref name.Reference, o options) (v1.Image, error) {
	ropts := append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.keychain),
		remote.WithPlatform(o.platform),
	}, o.remote...)
	img, err := remote.Image(ref, ropts...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil, &NotFoundError{Ref: ref.String(), Where: "registry " + ref.Context().RegistryStr()}
	}
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	return img, nil
}

// readLayout returns the image of an OCI layout: its only manifest, or the one
// for platform (also inside a nested index).
func readLayout(dir string, platform v1.Platform) (v1.Image, error) {
	ii, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading oci:%s: %w", dir, err)
	}
	img, err := pickImage(ii, platform)
	if err != nil {
		return nil, fmt.Errorf("reading oci:%s: %w", dir, err)
	}
	return img, nil
}

func pickImage(ii v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	m, err := ii.IndexManifest()
	if err != nil {
		return nil, err
	}
	var cands []v1.Descriptor
	for _, d := range m.Manifests {
		if len(m.Manifests) == 1 || d.Platform == nil || d.Platform.Satisfies(platform) {
			cands = append(cands, d)
		}
	}
	if len(cands) != 1 {
		var held []string
		for _, d := range m.Manifests {
			if d.Platform != nil {
				held = append(held, d.Platform.String())
			}
		}
		return nil, fmt.Errorf("%d images for %s in an image index of %s: name one of its platforms", len(cands), platform, strings.Join(held, ", "))
	}
	d := cands[0]
	if d.MediaType.IsIndex() {
		child, err := ii.ImageIndex(d.Digest)
		if err != nil {
			return nil, err
		}
		return pickImage(child, platform)
	}
	return ii.Image(d.Digest)
}
