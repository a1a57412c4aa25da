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
	o := options{filter: func(n string) (string, bool) { return n, true }}
	for _, opt := range opts {
		opt(&o)
	}
	tr, err := tarReader(r)
	if err != nil {
		return fmt.Errorf("reading %s: %w", archive, err)
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
				err = fn(name, hdr, tr)
			}
		}
		if err != nil {
			return fmt.Errorf("reading %s: entry %q: %w", archive, shorten(hdr.Name), err)
		}
	}
}
