package stack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/distill-build/distill/internal/archive"
)

// entry is one file of a root filesystem: either a member of the staged
// mmdebstrap tarball (data at offset in src) or generated content.
type entry struct {
	name     string // clean, relative to / ("usr/bin/env")
	typ      byte   // tar.TypeReg, TypeDir, TypeSymlink, TypeLink, others
	mode     int64  // permission bits including setuid/setgid/sticky
	uid, gid int
	linkname string // symlink target
	size     int64
	offset   int64  // data offset in the source tarball (regular files)
	data     []byte // generated content (gen == true)
	gen      bool
	xattrs   map[string]string
	link     *entry // hard link: the entry that holds the data
}

// tree indexes a tarball staged on disk: headers in memory, data on disk.
type tree struct {
	src     io.ReaderAt
	entries map[string]*entry
}

// cleanName turns a tar member name ("./usr/bin/", "/etc/x") into "usr/bin".
func cleanName(n string) string {
	n = path.Clean("/" + n)
	return strings.TrimPrefix(n, "/")
}

// indexTar reads the headers of the tarball f (through archive.Index, with
// the image layer rules for names) and records where each member's data
// starts. f must be seekable; data is never loaded.
func indexTar(ctx context.Context, f *os.File) (*tree, error) {
	t := &tree{src: f, entries: map[string]*entry{}}
	err := archive.Index(ctx, f.Name(), f, func(name string, hdr *tar.Header, offset int64) error {
		e := &entry{
			name: name, typ: hdr.Typeflag, mode: hdr.Mode & 0o7777,
			uid: hdr.Uid, gid: hdr.Gid, linkname: hdr.Linkname, size: hdr.Size,
		}
		for k, v := range hdr.PAXRecords {
			// Keep file capabilities and other security xattrs; drop the rest
			// (atime, ctime, user names) so that output is reproducible.
			if strings.HasPrefix(k, "SCHILY.xattr.security.") {
				if e.xattrs == nil {
					e.xattrs = map[string]string{}
				}
				e.xattrs[strings.TrimPrefix(k, "SCHILY.xattr.")] = v
			}
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // mmdebstrap may still write TypeRegA
			e.typ, e.offset = tar.TypeReg, offset
		case tar.TypeLink:
			target := t.entries[cleanName(hdr.Linkname)]
			if target == nil {
				return fmt.Errorf("hard link to missing %s", hdr.Linkname)
			}
			if target.link != nil {
				target = target.link
			}
			e.link, e.size, e.linkname = target, target.size, ""
		case tar.TypeGNUSparse:
			return errors.New("sparse files are not supported")
		}
		t.entries[name] = e
		return nil
	}, archive.Layer())
	if err != nil {
		return nil, err
	}
	return t, nil
}

// open returns the content of a regular file (or hard link to one).
func (t *tree) open(e *entry) io.Reader {
	if e.link != nil {
		e = e.link
	}
	if e.gen {
		return bytes.NewReader(e.data)
	}
	return io.NewSectionReader(t.src, e.offset, e.size)
}

// read returns the content of the regular file name.
func (t *tree) read(name string) ([]byte, error) {
	e := t.entries[name]
	if e == nil {
		return nil, fmt.Errorf("%s: not found in the root filesystem", name)
	}
	if e.typ != tar.TypeReg && e.typ != tar.TypeLink {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	return io.ReadAll(t.open(e))
}

// names returns every path, sorted.
func (t *tree) names() []string {
	out := make([]string, 0, len(t.entries))
	for n := range t.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// rootfs is the selected content of an image: entries by path.
type rootfs map[string]*entry

func (r rootfs) addFile(name string, data []byte, mode int64, uid, gid int) {
	r[name] = &entry{name: name, typ: tar.TypeReg, mode: mode, uid: uid, gid: gid,
		size: int64(len(data)), data: data, gen: true}
}

func (r rootfs) addDir(name string, mode int64, uid, gid int) {
	r[name] = &entry{name: name, typ: tar.TypeDir, mode: mode, uid: uid, gid: gid, gen: true}
}

func (r rootfs) addSymlink(name, target string) {
	r[name] = &entry{name: name, typ: tar.TypeSymlink, mode: 0o777, linkname: target, gen: true}
}

// addParents makes sure every entry's parent directories exist, taking
// their mode and owner from src when it has them (root 0755 otherwise).
func (r rootfs) addParents(src *tree) {
	for name := range r {
		for p := path.Dir(name); p != "." && r[p] == nil; p = path.Dir(p) {
			if e := src.entries[p]; e != nil && e.typ == tar.TypeDir {
				r[p] = e
			} else {
				r.addDir(p, 0o755, 0, 0)
			}
		}
	}
}

// writeTar writes r through archive.Writer, the one normalising tar writer:
// sorted paths, archive.Epoch times, numeric owners, security xattrs only.
// Device nodes and fifos are left out (the container runtime provides /dev).
// Hard links whose first member was filtered out become regular files.
func (r rootfs) writeTar(w io.Writer, src *tree) error {
	tw := archive.NewWriter(w)
	written := map[*entry]string{} // data holder -> first name written
	for _, name := range slices.Sorted(maps.Keys(r)) {
		e := r[name]
		hdr := &tar.Header{Name: name, Mode: e.mode, Uid: e.uid, Gid: e.gid}
		for k, v := range e.xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords["SCHILY.xattr."+k] = v
		}
		var body io.Reader
		switch e.typ {
		case tar.TypeDir:
			hdr.Typeflag = tar.TypeDir
		case tar.TypeSymlink:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.linkname
		case tar.TypeReg, tar.TypeLink:
			holder := e
			if e.link != nil {
				holder = e.link
			}
			if first, ok := written[holder]; ok {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				break
			}
			written[holder] = name
			// The first member written carries the data and the holder's metadata.
			hdr.Typeflag, hdr.Size = tar.TypeReg, holder.size
			hdr.Mode, hdr.Uid, hdr.Gid = holder.mode, holder.uid, holder.gid
			body = src.open(e)
		default:
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		if body != nil {
			if n, err := io.Copy(tw, body); err != nil {
				return fmt.Errorf("writing %s: %w", name, err)
			} else if n != hdr.Size {
				return fmt.Errorf("writing %s: %d of %d bytes", name, n, hdr.Size)
			}
		}
	}
	return tw.Close()
}
