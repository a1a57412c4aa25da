package archive

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Epoch is the time written on every entry (and, by the image package, on
// every image config): the CNB convention, 1980-01-01T00:00:01Z, so the same
// input always gives the same bytes.
var Epoch = time.Date(1980, time.January, 1, 0, 0, 1, 0, time.UTC)

// xattrPrefix is the PAX record prefix of extended attributes, the only PAX
// records a Writer keeps (file capabilities live there).
const xattrPrefix = "SCHILY.xattr."

// WriterOption changes how a Writer normalises entries.
type WriterOption func(*Writer)

// Owner makes uid:gid the owner of every entry, parent directories included;
// without it entries keep the owner their header names and parent
// directories the Writer adds are root's.
func Owner(uid, gid int) WriterOption {
	return func(w *Writer) { w.owner = &[2]int{uid, gid} }
}

// Writer is the one tar writer for everything distill builds: image layers
// (the exporter's launch, SBOM and app layers), builder image layers and stack
// root filesystems. Every entry is normalised: a clean relative name
// (directories end in "/"), mtime Epoch and no other times, numeric owners
// only (no user or group names), no device numbers, no PAX records but
// extended attributes, and the PAX format, which adds an extended header only
// where USTAR cannot hold the entry (a name or link target over 100 bytes, an
// xattr). Entries must come in increasing name order; a parent directory not
// written yet is written first (0755). Devices, fifos and sockets are refused
// with ErrRefused: the container runtime provides /dev.
type Writer struct {
	tw      *tar.Writer
	owner   *[2]int
	written map[string]bool // every name written, by clean name
	last    string          // the last name the caller wrote
	started bool
}

// NewWriter writes a normalised tar stream to w.
func NewWriter(w io.Writer, opts ...WriterOption) *Writer {
	tw := &Writer{tw: tar.NewWriter(w), written: map[string]bool{}}
	for _, o := range opts {
		o(tw)
	}
	return tw
}

// WriteHeader normalises hdr and writes it, after any parent directory not
// written yet; the entry's content, if any, follows with Write.
func (w *Writer) WriteHeader(hdr *tar.Header) error {
	name, err := entryName(hdr.Name, true)
	if err != nil {
		return fmt.Errorf("entry %q: %w", shorten(hdr.Name), err)
	}
	if name == "" {
		return nil // the root is implied
	}
	if w.started && name <= w.last {
		return fmt.Errorf("entry %q comes after %q: a normalised tar is sorted by name; sort the entries first", name, w.last)
	}
	w.started, w.last = true, name
	if err := w.parents(name); err != nil {
		return err
	}
	out, err := w.normalise(name, hdr)
	if err != nil {
		return fmt.Errorf("entry %q: %w", shorten(name), err)
	}
	w.written[name] = true
	return w.tw.WriteHeader(out)
}

// Write writes content of the current entry.
func (w *Writer) Write(p []byte) (int, error) { return w.tw.Write(p) }

// Close writes the tar trailer; it does not close the underlying writer.
func (w *Writer) Close() error { return w.tw.Close() }

// parents writes every ancestor directory of name not written yet (an
// ancestor written as a symlink is the caller's choice and stays).
func (w *Writer) parents(name string) error {
	dir := path.Dir(name)
	if dir == "." || w.written[dir] {
		return nil
	}
	if err := w.parents(dir); err != nil {
		return err
	}
	hdr, _ := w.normalise(dir, &tar.Header{Typeflag: tar.TypeDir, Mode: 0o755})
	w.written[dir] = true
	return w.tw.WriteHeader(hdr)
}

// normalise is the header written for hdr under the clean name.
func (w *Writer) normalise(name string, hdr *tar.Header) (*tar.Header, error) {
	out := &tar.Header{
		Typeflag: hdr.Typeflag, Name: name, Linkname: hdr.Linkname,
		Mode: hdr.Mode & 0o7777, Uid: hdr.Uid, Gid: hdr.Gid,
		ModTime: Epoch, Format: tar.FormatPAX,
	}
	if w.owner != nil {
		out.Uid, out.Gid = w.owner[0], w.owner[1]
	}
	for k, v := range hdr.PAXRecords {
		if strings.HasPrefix(k, xattrPrefix) {
			if out.PAXRecords == nil {
				out.PAXRecords = map[string]string{}
			}
			out.PAXRecords[k] = v
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		out.Name += "/"
	case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // TypeRegA still appears in old archives
		out.Typeflag, out.Size = tar.TypeReg, hdr.Size
	case tar.TypeSymlink, tar.TypeLink:
	default:
		return nil, fmt.Errorf("type %q: %w (devices, fifos and sockets never belong in an image)", hdr.Typeflag, ErrRefused)
	}
	return out, nil
}

// WriteDir writes the tree at dir under prefix (a slash path, "" for the
// root; its parent directories are written first): every directory, regular
// file and symlink, sorted by name, with its permission bits (setuid, setgid
// and sticky included). keep, when not nil, is asked about every path
// relative to dir; false for a directory skips its subtree. Devices, fifos
// and sockets are left out.
func (w *Writer) WriteDir(dir, prefix string, keep func(rel string, d fs.DirEntry) bool) error {
	type file struct{ name, src string }
	var files []file
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && keep != nil && !keep(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if t := d.Type(); t.IsDir() || t.IsRegular() || t&fs.ModeSymlink != 0 {
			files = append(files, file{strings.Trim(path.Join(prefix, rel), "/"), p})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing %s as a tar: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	for _, f := range files {
		if err := w.writeFile(f.name, f.src); err != nil {
			return fmt.Errorf("writing %s as a tar: %w", dir, err)
		}
	}
	return nil
}

// writeFile writes the file src (not followed if a symlink) as name.
func (w *Writer) writeFile(name, src string) error {
	if name == "" {
		return nil
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: name, Mode: unixMode(fi.Mode())}
	switch {
	case fi.IsDir():
		hdr.Typeflag = tar.TypeDir
		return w.WriteHeader(hdr)
	case fi.Mode()&fs.ModeSymlink != 0:
		if hdr.Linkname, err = os.Readlink(src); err != nil {
			return err
		}
		hdr.Typeflag = tar.TypeSymlink
		return w.WriteHeader(hdr)
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
	if err := w.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(w.tw, f, fi.Size()); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return nil
}

// unixMode is the tar mode of m: permission bits plus setuid, setgid and
// sticky as Unix numbers, not Go's fs.Mode bits.
func unixMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
