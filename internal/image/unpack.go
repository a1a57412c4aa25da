package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	// maxSymlinks bounds symlink resolution inside the root (like the kernel's 40).
	maxSymlinks = 40
)

// Unpack flattens the layers of img into dir, a root file system for an OCI
// runtime: whiteouts are applied, modes, owners, times and xattrs kept, device
// nodes skipped. Entries never land outside dir: names with ".." are refused
// and symlinks are resolved as if dir were "/". The tree is built in a sibling
// directory and renamed to dir at the end; if dir already exists it is kept
// as it is (key dir by image digest).
func Unpack(ctx context.Context, img v1.Image, dir string) error {
	dir = filepath.Clean(dir)
	if _, err := os.Lstat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, dirMode); err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // gone after the rename
	if err := os.Chmod(tmp, dirMode); err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("unpacking into %s: listing layers: %w", dir, err)
	}
	for i, l := range layers {
		if err := unpackLayer(ctx, l, tmp); err != nil {
			return fmt.Errorf("unpacking layer %d into %s: %w", i, dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Lstat(dir); serr == nil {
			return nil // unpacked meanwhile by someone else
		}
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	return nil
}

func unpackLayer(ctx context.Context, l v1.Layer, root string) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	return unpackTar(ctx, rc, root)
}

type dirTime struct {
	path  string
	mtime time.Time
}

// unpackTar applies one layer's tar stream to root.
func unpackTar(ctx context.Context, r io.Reader, root string) error {
	tr := tar.NewReader(r)
	written := map[string]bool{} // entries of this layer, for opaque whiteouts
	var dirs []dirTime
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		rel, err := entryPath(hdr.Name)
		if err != nil {
			return err
		}
		if rel == "" {
			continue // the root itself
		}
		dirRel, base := path.Split(rel)
		dirRel = strings.TrimSuffix(dirRel, "/")
		if strings.HasPrefix(base, whiteoutPrefix) {
			parent, err := resolveIn(root, dirRel)
			if err != nil {
				return fmt.Errorf("whiteout %s: %w", hdr.Name, err)
			}
			switch {
			case base == whiteoutOpaque:
				if err := clearOpaque(parent, dirRel, written); err != nil {
					return fmt.Errorf("whiteout %s: %w", hdr.Name, err)
				}
			case strings.HasPrefix(base, whiteoutPrefix+whiteoutPrefix):
				// other aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not content
			default:
				if err := os.RemoveAll(filepath.Join(parent, strings.TrimPrefix(base, whiteoutPrefix))); err != nil {
					return fmt.Errorf("whiteout %s: %w", hdr.Name, err)
				}
			}
			continue
		}
		parent, err := resolveIn(root, dirRel)
		if err != nil {
			return fmt.Errorf("extracting %s: %w", hdr.Name, err)
		}
		if err := os.MkdirAll(parent, dirMode); err != nil {
			return fmt.Errorf("extracting %s: %w", hdr.Name, err)
		}
		target := filepath.Join(parent, base)
		made, err := extract(tr, hdr, root, target)
		if err != nil {
			return fmt.Errorf("extracting %s: %w", hdr.Name, err)
		}
		if !made {
			continue
		}
		written[rel] = true
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirTime{target, hdr.ModTime})
		}
	}
	// Directory times last: extracting their children changed them.
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		_ = os.Chtimes(d.path, d.mtime, d.mtime)
	}
	return nil
}

// entryPath cleans a tar entry name to a slash path relative to the root
// ("" for the root), refusing names that climb out of it.
func entryPath(name string) (string, error) {
	p := path.Clean(strings.TrimLeft(name, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("tar entry %q escapes the root", name)
	}
	if p == "." {
		return "", nil
	}
	return p, nil
}

// resolveIn returns the host path of rel inside root, following symlinks as if
// root were "/": absolute targets restart at root, ".." stops at root. Missing
// components are taken as they are (they will be directories).
func resolveIn(root, rel string) (string, error) {
	if rel == "" || rel == "." {
		return root, nil
	}
	resolved := "" // slash path relative to root, already resolved
	todo := rel    // what remains
	links := 0
	for todo != "" {
		var part string
		part, todo, _ = strings.Cut(todo, "/")
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			if resolved == "." || resolved == "/" {
				resolved = ""
			}
			continue
		}
		next := path.Join(resolved, part)
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(next)))
		if errors.Is(err, fs.ErrNotExist) {
			resolved = next
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		links++
		if links > maxSymlinks {
			return "", fmt.Errorf("resolving %s: too many symlinks", rel)
		}
		target, err := os.Readlink(filepath.Join(root, filepath.FromSlash(next)))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			resolved = ""
		}
		todo = strings.TrimPrefix(path.Join(target, todo), "/")
	}
	return filepath.Join(root, filepath.FromSlash(resolved)), nil
}

// clearOpaque removes what lower layers put under dir, keeping what this layer
// wrote (written holds this layer's entries by relative path).
func clearOpaque(dir, rel string, written map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		childRel := path.Join(rel, e.Name())
		child := filepath.Join(dir, e.Name())
		if !written[childRel] {
			if err := os.RemoveAll(child); err != nil {
				return err
			}
			continue
		}
		if e.IsDir() && e.Type()&fs.ModeSymlink == 0 {
			if err := clearOpaque(child, childRel, written); err != nil {
				return err
			}
		}
	}
	return nil
}

// extract writes one entry at target (whose parent exists and is inside the
// root). It reports false for entries it skips.
func extract(tr *tar.Reader, hdr *tar.Header, root, target string) (bool, error) {
	// Replace whatever is there, except a directory by a directory.
	if fi, err := os.Lstat(target); err == nil {
		if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := os.RemoveAll(target); err != nil {
				return false, err
			}
		}
	}
	mode := os.FileMode(hdr.Mode).Perm()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, err
		}
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
		if err != nil {
			return false, err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return false, err
		}
		if err := f.Close(); err != nil {
			return false, err
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, target); err != nil {
			return false, err
		}
	case tar.TypeLink:
		lrel, err := entryPath(hdr.Linkname)
		if err != nil || lrel == "" {
			return false, fmt.Errorf("hard link to %q: outside the root", hdr.Linkname)
		}
		ldir, lbase := path.Split(lrel)
		lparent, err := resolveIn(root, strings.TrimSuffix(ldir, "/"))
		if err != nil {
			return false, err
		}
		if err := os.Link(filepath.Join(lparent, lbase), target); err != nil {
			return false, err
		}
		return true, nil // a hard link shares its target's inode: nothing more to set
	case tar.TypeFifo:
		if err := unix.Mkfifo(target, uint32(mode)); err != nil {
			return false, err
		}
	default:
		return false, nil // devices (the runtime provides /dev), sockets, unknown types
	}
	if err := setMetadata(hdr, target); err != nil {
		return false, err
	}
	return true, nil
}

// setMetadata sets owner, mode (after chown, which clears setuid bits), xattrs
// and times of target.
func setMetadata(hdr *tar.Header, target string) error {
	if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
		if !errors.Is(err, syscall.EPERM) || os.Geteuid() == 0 {
			return err
		}
	}
	for k, v := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			if err := unix.Lsetxattr(target, attr, []byte(v), 0); err != nil &&
				!errors.Is(err, syscall.ENOTSUP) && !errors.Is(err, syscall.EPERM) {
				return fmt.Errorf("setting xattr %s: %w", attr, err)
			}
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
		_ = unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW)
		return nil
	}
	mode := os.FileMode(hdr.Mode).Perm()
	if hdr.Mode&0o4000 != 0 {
		mode |= os.ModeSetuid
	}
	if hdr.Mode&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	if hdr.Mode&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	if err := os.Chmod(target, mode); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeDir {
		_ = os.Chtimes(target, hdr.ModTime, hdr.ModTime)
	}
	return nil
}
