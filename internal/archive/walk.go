package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
)

// Walk calls fn for every entry of the tar stream r (gzip-compressed or not)
// without writing anything: name is the entry's clean, relative slash name
// after the options' filter (Under, StripComponents; Layer allows absolute
// names), hdr its header and body its content. Names with "..", and absolute
// names without Layer, fail with ErrEscape; the root entry and pax global
// headers are skipped. Errors, fn's included, name the archive and the entry.
func Walk(ctx context.Context, archive string, r io.Reader, fn func(name string, hdr *tar.Header, body io.Reader) error, opts ...Option) error {
	tr, err := tarReader(r)
	if err != nil {
		return fmt.Errorf("reading %s: %w", archive, err)
	}
	return each(ctx, archive, tr, opts, func(name string, hdr *tar.Header) error {
		return fn(name, hdr, tr)
	})
}

// Index is Walk over an uncompressed tar file that reads headers only: fn
// gets the offset in f where each entry's content starts (regular files'
// data stays on disk, to be read later with an io.SectionReader).
func Index(ctx context.Context, archive string, f io.ReadSeeker, fn func(name string, hdr *tar.Header, offset int64) error, opts ...Option) error {
	tr := tar.NewReader(f)
	return each(ctx, archive, tr, opts, func(name string, hdr *tar.Header) error {
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		return fn(name, hdr, off)
	})
}

// each calls fn for every entry of tr with its clean name, as Walk describes.
func each(ctx context.Context, archive string, tr *tar.Reader, opts []Option, fn func(name string, hdr *tar.Header) error) error {
	o := options{filter: func(n string) (string, bool) { return n, true }}
	for _, opt := range opts {
		opt(&o)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reading %s: %w", archive, err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", archive, err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name, err := entryName(hdr.Name, o.layer)
		if err == nil && name != "" {
			if name, keep := o.filter(name); keep && name != "" {
				err = fn(name, hdr)
			}
		}
		if err != nil {
			return fmt.Errorf("reading %s: entry %q: %w", archive, shorten(hdr.Name), err)
		}
	}
}
