package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

// Target is where a built image goes.
type Target interface {
	// Write stores img. A failed Write leaves what was there before untouched.
	Write(ctx context.Context, img v1.Image) error
	// String gives the target in the form ParseTarget reads.
	String() string
}

// IndexTarget is a Target that can also hold an image index: the images of
// several platforms under one name.
type IndexTarget interface {
	Target
	// WriteIndex stores idx and every image it lists. A failed WriteIndex
	// leaves what was there before untouched.
	WriteIndex(ctx context.Context, idx v1.ImageIndex) error
}

// LocalTarget is a Target that writes to a path on this machine (an OCI
// layout's directory, a docker archive's file).
type LocalTarget interface {
	Target
	Path() string
}

// ParseTarget reads a target:
//
//	oci:<dir>              OCI image layout (also a bare path)
//	docker-archive:<file>  `docker save` tarball (`docker load -i`)
//	registry:<ref>         push to a registry
//	daemon:<tag>           load into the Docker API (docker or podman)
func ParseTarget(s string, opts ...Option) (Target, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || strings.ContainsAny(kind, "/.") {
		kind, rest = "oci", s // a bare path
	}
	if rest == "" {
		return nil, fmt.Errorf("parsing target %q: empty %s location", s, kind)
	}
	switch kind {
	case "oci":
		return OCILayout(rest, opts...), nil
	case "docker-archive":
		return DockerArchive(rest, opts...), nil
	case "registry":
		ref, err := name.ParseReference(rest)
		if err != nil {
			return nil, fmt.Errorf("parsing target %q: %w", s, err)
		}
		return Registry(ref, opts...), nil
	case "daemon":
		tag, err := name.NewTag(rest)
		if err != nil {
			return nil, fmt.Errorf("parsing target %q: %w", s, err)
		}
		return Daemon(tag, opts...), nil
	}
	return nil, fmt.Errorf("parsing target %q: unknown kind %q (want oci, docker-archive, registry or daemon)", s, kind)
}

// OCILayout writes an image as the only manifest of an OCI image layout at dir,
// annotated with WithRefName (default "latest"). The layout is built in a
// sibling directory and swapped in, so a failed write leaves dir as it was.
// An existing dir must be empty or an OCI layout.
func OCILayout(dir string, opts ...Option) Target {
	o := makeOptions(opts...)
	if o.refName == "" {
		o.refName = "latest"
	}
	return ociLayout{dir: dir, refName: o.refName}
}

type ociLayout struct{ dir, refName string }

func (t ociLayout) String() string { return "oci:" + t.dir }

// Path is the layout's directory.
func (t ociLayout) Path() string { return t.dir }

func (t ociLayout) Write(ctx context.Context, img v1.Image) error {
	return t.write(ctx, func(lw layoutWriter) (v1.Descriptor, error) { return lw.writeImage(ctx, img) })
}

// WriteIndex writes idx as the layout's only manifest: index.json names the
// image index (annotated with the ref name), whose manifests are the
// platforms' images, as multi-platform OCI layouts are laid out.
func (t ociLayout) WriteIndex(ctx context.Context, idx v1.ImageIndex) error {
	return t.write(ctx, func(lw layoutWriter) (v1.Descriptor, error) { return lw.writeImageIndex(ctx, idx) })
}

// write builds the layout in a sibling directory, with the manifest content
// writes and returns the descriptor of, then swaps it in.
func (t ociLayout) write(ctx context.Context, content func(layoutWriter) (v1.Descriptor, error)) error {
	dir := filepath.Clean(t.dir)
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, dirMode); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	defer os.RemoveAll(tmp) // after a swap it holds the old layout
	if err := os.Chmod(tmp, dirMode); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	lw := layoutWriter{dir: tmp, reuse: dir}
	if err := lw.init(); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	desc, err := content(lw)
	if err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	desc.Annotations = map[string]string{RefNameAnnotation: t.refName}
	idx, _ := lw.readIndex() // fresh directory: an empty index
	idx.Manifests = []v1.Descriptor{desc}
	if err := lw.writeIndex(idx); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	if err := replaceDir(tmp, dir); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	return nil
}

// checkReplaceable refuses to replace a directory that is not ours to replace.
func checkReplaceable(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing oci:%s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("writing oci:%s: not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("writing oci:%s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("writing oci:%s: directory is neither empty nor an OCI image layout; refusing to replace it", dir)
	}
	return nil
}

// replaceDir puts directory src at dst. An existing dst is swapped atomically
// (renameat2 RENAME_EXCHANGE) and its old contents left at src; where the file
// system cannot exchange, dst is moved aside first and restored on failure.
func replaceDir(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil {
		return nil // dst did not exist or was an empty directory
	}
	if !errors.Is(err, syscall.EEXIST) && !errors.Is(err, syscall.ENOTEMPTY) {
		return err
	}
	err = unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOSYS) {
		return fmt.Errorf("exchanging %s and %s: %w", src, dst, err)
	}
	old := src + ".old"
	if err := os.Rename(dst, old); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		_ = os.Rename(old, dst)
		return err
	}
	return os.Rename(old, src)
}

// DockerArchive writes an image as a `docker save` tarball, tagged with
// WithRefName when given. The file is written next to path and renamed over it.
func DockerArchive(path string, opts ...Option) Target {
	o := makeOptions(opts...)
	return dockerArchive{path: path, tag: o.refName}
}

type dockerArchive struct{ path, tag string }

func (t dockerArchive) String() string { return "docker-archive:" + t.path }

// Path is the archive's file.
func (t dockerArchive) Path() string { return t.path }

func (t dockerArchive) Write(ctx context.Context, img v1.Image) error {
	var ref name.Reference
	if t.tag != "" {
		tag, err := name.NewTag(t.tag)
		if err != nil {
			return fmt.Errorf("writing %s: %w", t, err)
		}
		ref = tag
	} else {
		// A digest reference writes no RepoTags: `docker load` gives an untagged image.
		d, err := img.Digest()
		if err != nil {
			return fmt.Errorf("writing %s: %w", t, err)
		}
		ref, err = name.NewDigest("image@" + d.String())
		if err != nil {
			return fmt.Errorf("writing %s: %w", t, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(t.path), dirMode); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	f, err := os.CreateTemp(filepath.Dir(t.path), "."+filepath.Base(t.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	defer f.Close()
	if err := tarball.Write(ref, img, ctxWriter{ctx, f}); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	if err := f.Chmod(blobMode); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	if err := os.Rename(f.Name(), t.path); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	return nil
}

// Registry pushes an image to ref with the keychain of WithKeychain (default:
// the docker config's credentials).
func Registry(ref name.Reference, opts ...Option) Target {
	return registryTarget{ref: ref, o: makeOptions(opts...)}
}

type registryTarget struct {
	ref name.Reference
	o   options
}

func (t registryTarget) String() string { return "registry:" + t.ref.String() }

func (t registryTarget) Write(ctx context.Context, img v1.Image) error {
	ropts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(t.o.keychain)}, t.o.remote...)
	if err := remote.Write(t.ref, img, ropts...); err != nil {
		return fmt.Errorf("pushing %s: %w", t.ref, err)
	}
	return nil
}

// WriteIndex pushes idx and its images to the reference.
func (t registryTarget) WriteIndex(ctx context.Context, idx v1.ImageIndex) error {
	ropts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(t.o.keychain)}, t.o.remote...)
	if err := remote.WriteIndex(t.ref, idx, ropts...); err != nil {
		return fmt.Errorf("pushing %s: %w", t.ref, err)
	}
	return nil
}

// ctxWriter stops a long write when ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   *os.File
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
