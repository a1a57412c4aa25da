package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// resolveChroot returns the path, relative to the root and free of symlinks,
// that rel names when the root is "/": symlinks are followed, absolute targets
// restart at the root, ".." stops at the root. Missing components are taken
// as they are (they will be directories).
func (x *extractor) resolveChroot(rel string) (string, error) {
	resolved := "" // already resolved, relative to the root
	todo := rel    // what remains
	links := 0
	for todo != "" {
		var part string
		part, todo, _ = strings.Cut(todo, "/")
		switch part {
		case "", ".":
			continue
		case "..":
			if resolved = path.Dir(resolved); resolved == "." {
				resolved = ""
			}
			continue
		}
		next := path.Join(resolved, part)
		fi, err := x.root.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode()&fs.ModeSymlink == 0) {
			resolved = next
			continue
		}
		if err != nil {
			return "", err
		}
		if links++; links > maxSymlinks {
			return "", fmt.Errorf("resolving %s: too many symlinks", rel)
		}
		target, err := x.root.Readlink(next)
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			resolved = ""
		}
		todo = strings.TrimPrefix(target+"/"+todo, "/")
	}
	return resolved, nil
}

// whiteout applies a whiteout entry base found in dir (layer.md, "Whiteouts").
func (x *extractor) whiteout(dir, base string) error {
	parent, err := x.resolveChroot(dir)
	if err != nil {
		return err
	}
	switch {
	case base == whiteoutOpaque:
		return x.clearOpaque(parent, dir)
	case strings.HasPrefix(base, whiteoutMeta):
		return nil // other aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not content
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("whiteout of %q: %w", name, ErrRefused)
	}
	if parent == "" {
		return x.root.RemoveAll(name)
	}
	return x.root.RemoveAll(parent + "/" + name)
}

// clearOpaque removes what lower layers put under dir (resolved; rel as the
// archive names it), keeping what this archive wrote.
func (x *extractor) clearOpaque(dir, rel string) error {
	if dir == "" {
		dir = "."
	}
	d, err := x.root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		childRel, child := path.Join(rel, e.Name()), path.Join(dir, e.Name())
		if !x.written[childRel] {
			if err := x.root.RemoveAll(child); err != nil {
				return err
			}
			continue
		}
		if e.IsDir() {
			if err := x.clearOpaque(child, childRel); err != nil {
				return err
			}
		}
	}
	return nil
}

// setMetadata sets owner, mode (after chown, which clears setuid bits) and
// times of target; xattrs of regular files are set when they are written.
func (x *extractor) setMetadata(hdr *tar.Header, target string) error {
	if err := x.root.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
		if !errors.Is(err, syscall.EPERM) || os.Geteuid() == 0 {
			return err
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
		_ = x.at(target, func(dirfd int, base string) error {
			return unix.UtimesNanoAt(dirfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
		})
		return nil
	}
	if hdr.Typeflag == tar.TypeDir {
		if d, err := x.root.Open(target); err == nil {
			err = setXattrs(d, hdr)
			d.Close()
			if err != nil {
				return err
			}
		}
	}
	mode := os.FileMode(hdr.Mode).Perm()
	for bit, m := range map[int64]os.FileMode{0o4000: os.ModeSetuid, 0o2000: os.ModeSetgid, 0o1000: os.ModeSticky} {
		if hdr.Mode&bit != 0 {
			mode |= m
		}
	}
	if err := x.root.Chmod(target, mode); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeDir {
		_ = x.root.Chtimes(target, hdr.ModTime, hdr.ModTime)
	}
	return nil
}

// setXattrs sets the entry's SCHILY.xattr.* PAX records on f; file systems
// or users that cannot hold them are not errors.
func setXattrs(f *os.File, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		if err := unix.Fsetxattr(int(f.Fd()), attr, []byte(v), 0); err != nil &&
			!errors.Is(err, syscall.ENOTSUP) && !errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("setting xattr %s: %w", attr, err)
		}
	}
	return nil
}
