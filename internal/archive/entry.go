package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// entry writes one tar entry. Its errors do not name the entry; Extract does.
func (x *extractor) entry(tr *tar.Reader, hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // pax global header (git archive): not a file
	}
	rel, err := entryName(hdr.Name, x.opts.layer)
	if err != nil || rel == "" {
		return err
	}
	rel, keep := x.opts.filter(rel)
	if !keep || rel == "" {
		return nil
	}
	dir, base := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if strings.HasPrefix(base, whiteoutPrefix) {
		if !x.opts.layer {
			return nil // a whiteout marks a lower layer's file: nothing to write
		}
		return x.whiteout(dir, base)
	}
	if err := x.check(hdr); err != nil {
		return err
	}
	parent, err := x.parent(dir)
	if err != nil {
		return err
	}
	if parent != "" {
		if err := x.root.MkdirAll(parent, 0o755); err != nil {
			return err
		}
	}
	target := path.Join(parent, base)
	made, err := x.write(tr, hdr, target)
	if err != nil || !made {
		return err
	}
	if !x.opts.layer {
		return nil
	}
	x.written[rel] = true
	if hdr.Typeflag == tar.TypeLink {
		return nil // a hard link shares its target's inode and metadata
	}
	if hdr.Typeflag == tar.TypeDir {
		x.dirs = append(x.dirs, dirTime{target, hdr.ModTime})
	}
	return x.setMetadata(hdr, target)
}

// check refuses, by default, the entry types and modes a buildpack or
// package never needs.
func (x *extractor) check(hdr *tar.Header) error {
	if x.opts.layer {
		return nil
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
		return nil
	case tar.TypeReg, tar.TypeRegA:
		if hdr.Mode&(0o4000|0o2000) != 0 {
			return fmt.Errorf("setuid/setgid file (mode %#o): %w", hdr.Mode, ErrRefused)
		}
		return nil
	case tar.TypeChar, tar.TypeBlock:
		return fmt.Errorf("device node: %w", ErrRefused)
	case tar.TypeFifo:
		return fmt.Errorf("fifo: %w", ErrRefused)
	}
	return fmt.Errorf("entry type %q: %w", hdr.Typeflag, ErrRefused)
}

// parent is the directory, relative to the root, that entries in dir go
// into: dir itself by default (os.Root follows symlinks that stay inside and
// refuses the rest), dir resolved as if the root were "/" with Layer.
func (x *extractor) parent(dir string) (string, error) {
	if !x.opts.layer {
		return dir, nil
	}
	return x.resolveChroot(dir)
}

// write makes target from hdr, replacing what is there (except a directory by
// a directory). It reports false for entries it skips (devices with Layer).
func (x *extractor) write(tr *tar.Reader, hdr *tar.Header, target string) (bool, error) {
	if fi, err := x.root.Lstat(target); err == nil {
		if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := x.root.RemoveAll(target); err != nil {
				return false, err
			}
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := x.root.Mkdir(target, x.perm(hdr)); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, err
		}
	case tar.TypeReg, tar.TypeRegA:
		return true, x.writeFile(tr, hdr, target)
	case tar.TypeSymlink:
		return true, x.symlink(hdr.Linkname, target)
	case tar.TypeLink:
		return true, x.hardlink(hdr.Linkname, target)
	case tar.TypeFifo:
		return true, x.at(target, func(dirfd int, base string) error {
			return unix.Mkfifoat(dirfd, base, uint32(x.perm(hdr)))
		})
	default:
		return false, nil // Layer: devices (the runtime provides /dev), sockets, unknown types
	}
	return true, nil
}

// perm is the mode an entry is created with: its own permission bits with
// Layer (special bits come with setMetadata), else 0755 or 0644.
func (x *extractor) perm(hdr *tar.Header) os.FileMode {
	if x.opts.layer {
		return os.FileMode(hdr.Mode).Perm()
	}
	if hdr.Typeflag == tar.TypeDir || hdr.Mode&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

func (x *extractor) writeFile(r io.Reader, hdr *tar.Header, target string) error {
	f, err := x.root.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, x.perm(hdr))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if x.opts.layer {
		if err := setXattrs(f, hdr); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// symlink makes target a symlink to linkname. By default linkname must be
// relative and stay inside the root from target's directory (checked here
// lexically, and through every symlink when the archive is done); with Layer
// any target is kept, it resolves inside the rootfs.
func (x *extractor) symlink(linkname, target string) error {
	if !x.opts.layer {
		if path.IsAbs(linkname) {
			return fmt.Errorf("symlink to absolute %q: %w", shorten(linkname), ErrEscape)
		}
		if p := path.Join(path.Dir(target), linkname); p == ".." || strings.HasPrefix(p, "../") {
			return fmt.Errorf("symlink to %q: %w", shorten(linkname), ErrEscape)
		}
	}
	return x.root.Symlink(linkname, target)
}

// hardlink makes target a hard link to the entry linkname names in the
// archive, which must have been extracted inside the root.
func (x *extractor) hardlink(linkname, target string) error {
	old, err := entryName(linkname, x.opts.layer)
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", shorten(linkname), err)
	}
	old, keep := x.opts.filter(old)
	if old == "" || !keep {
		return fmt.Errorf("hard link to %q, which is not extracted: %w", shorten(linkname), ErrEscape)
	}
	if x.opts.layer {
		dir, base := path.Split(old)
		parent, err := x.resolveChroot(strings.TrimSuffix(dir, "/"))
		if err != nil {
			return err
		}
		old = path.Join(parent, base)
	}
	return x.root.Link(old, target)
}

// at calls f with a descriptor of target's parent directory (opened through
// the root) and target's base name, for the *at system calls os.Root lacks.
func (x *extractor) at(target string, f func(dirfd int, base string) error) error {
	d, err := x.root.Open(path.Dir(target))
	if err != nil {
		return err
	}
	defer d.Close()
	return f(int(d.Fd()), path.Base(target))
}
