// Package archive is the one place distill unpacks tar archives (plain or
// gzip): builder image layers, npm package tarballs, image layers onto a root
// filesystem. Every write goes through an os.Root opened on the destination,
// so no entry, symlink or hard link can make it write outside: the kernel
// resolves each path beneath the root's file descriptor and refuses what
// climbs out (see `go doc os.Root`).
//
// On top of that, Extract refuses (by default) what a buildpack or a package
// never needs: absolute names, names with "..", symlinks that point or lead
// outside the destination, hard links to entries it did not extract, device
// nodes, fifos and setuid/setgid files. With Layer it applies the OCI image
// layer rules instead (whiteouts, owners, modes, xattrs; symlinks resolved as
// if the destination were "/"). Errors name the archive and the entry:
//
//	extracting <archive>: entry "<name>": <what is wrong>
package archive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ErrEscape is wrapped by errors for an entry whose name, symlink or hard link
// leads outside the destination.
var ErrEscape = errors.New("leads outside the destination")

// ErrRefused is wrapped by errors for an entry the extractor does not write:
// a device node, fifo or socket, a setuid/setgid file, an unknown type.
var ErrRefused = errors.New("refused")

// Option changes how Extract writes entries.
type Option func(*options)

type options struct {
	// filter maps a clean entry name to its name in the destination; false skips it.
	filter func(name string) (string, bool)
	layer  bool
}

// Under keeps only the entries whose clean name lies under one of prefixes
// (slash paths such as "cnb/buildpacks/"), with their names unchanged.
func Under(prefixes ...string) Option {
	return func(o *options) { o.filter = under(prefixes) }
}

// StripComponents drops the first n components of every entry name, as
// tar --strip-components does (an npm tarball's "package/"); entries with no
// more than n components are skipped.
func StripComponents(n int) Option {
	return func(o *options) { o.filter = strip(n) }
}

// Layer extracts an OCI image layer onto a root filesystem, following the
// image spec's layer.md ("Applying Changesets", "Whiteouts"):
//   - ".wh.<name>" removes <name> from lower layers, ".wh..wh..opq" empties its
//     directory of what lower layers put there; neither is written;
//   - modes (setuid, setgid, sticky included), numeric owners, security
//     xattrs and times are kept; fifos are made; device nodes are skipped
//     (the runtime provides /dev);
//   - absolute names are taken from the root, and symlinks, absolute ones
//     included, are resolved as if the destination were "/" when an entry is
//     written through them: chroot semantics, the tree is a container's rootfs.
//
// Names with ".." are still refused, and nothing is written outside.
func Layer() Option {
	return func(o *options) { o.layer = true }
}

// ExtractFile extracts the tar archive at path (gzip or not) into dest; see Extract.
func ExtractFile(ctx context.Context, path, dest string, opts ...Option) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("extracting %s: %w", path, err)
	}
	defer f.Close()
	return Extract(ctx, path, f, dest, opts...)
}

// Extract writes the entries of the tar stream r (gzip-compressed or not)
// into dest, created if missing. name names the archive in errors. Without
// options, only directories (0755), regular files (0644, or 0755 when any
// execute bit is set), relative symlinks that resolve inside dest and hard
// links to entries inside dest are written, owned by the caller; a later
// entry replaces an earlier one of the same name (a directory over a
// directory is kept). Whiteout entries are skipped. Everything else fails
// with ErrEscape or ErrRefused, naming the archive and the entry; what was
// extracted before the failure stays in dest (extract into a temporary
// directory and rename it to publish).
func Extract(ctx context.Context, name string, r io.Reader, dest string, opts ...Option) error {
	o := options{filter: func(n string) (string, bool) { return n, true }}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("extracting %s: %w", name, err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fmt.Errorf("extracting %s: %w", name, err)
	}
	defer root.Close()
	tr, err := tarReader(r)
	if err != nil {
		return fmt.Errorf("extracting %s: %w", name, err)
	}
	x := &extractor{root: root, opts: o, written: map[string]bool{}}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("extracting %s: %w", name, err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("extracting %s: %w", name, err)
		}
		if err := x.entry(tr, hdr); err != nil {
			return fmt.Errorf("extracting %s: entry %q: %w", name, shorten(hdr.Name), err)
		}
	}
	if err := x.finish(); err != nil {
		return fmt.Errorf("extracting %s: %w", name, err)
	}
	return nil
}

// tarReader reads r as a tar stream, through gzip when it starts with gzip's magic.
func tarReader(r io.Reader) (*tar.Reader, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		return tar.NewReader(gz), nil
	}
	return tar.NewReader(br), nil
}

// shorten keeps error messages readable for hostile, very long names.
func shorten(name string) string {
	const max = 200
	if len(name) <= max {
		return name
	}
	return name[:max] + fmt.Sprintf("...(%d bytes)", len(name))
}

type dirTime struct {
	path  string
	mtime time.Time
}

// extractor holds the state of one Extract call.
type extractor struct {
	root    *os.Root
	opts    options
	written map[string]bool // entries of this archive by name, for opaque whiteouts
	dirs    []dirTime       // directory times, set last (Layer)
}

// finish sets directory times (Layer) or checks that no symlink in the
// destination leads outside it (default).
func (x *extractor) finish() error {
	if !x.opts.layer {
		return x.checkSymlinks()
	}
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		_ = x.root.Chtimes(d.path, d.mtime, d.mtime)
	}
	return nil
}
