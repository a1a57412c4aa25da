package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// checkSymlinks walks the destination once the archive is written and
// removes, and reports, the first symlink that leads outside it when
// followed the way the kernel does (through other symlinks, ".." taken
// physically). A lexical check when each link is made cannot see chains
// such as "s -> ." followed by "s/s/l -> ../x".
func (x *extractor) checkSymlinks() error {
	var bad error
	err := fs.WalkDir(x.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		target, err := x.root.Readlink(p)
		if err != nil {
			return err
		}
		if err := x.resolveInside(path.Dir(p) + "/" + target); err != nil {
			_ = x.root.Remove(p)
			bad = fmt.Errorf("entry %q: symlink to %q: %w", shorten(p), shorten(target), err)
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return err
	}
	return bad
}

// resolveInside follows p (a slash path relative to the root, not cleaned)
// through the symlinks in the root and fails with ErrEscape when it climbs
// above the root or meets an absolute symlink. Missing components are taken
// as they are.
func (x *extractor) resolveInside(p string) error {
	var stack []string
	todo := strings.Split(p, "/")
	links := 0
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return ErrEscape
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, part)
		cur := strings.Join(stack, "/")
		fi, err := x.root.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode()&fs.ModeSymlink == 0) {
			continue
		}
		if err != nil {
			return err
		}
		if links++; links > maxSymlinks {
			return fmt.Errorf("too many symlinks")
		}
		target, err := x.root.Readlink(cur)
		if err != nil {
			return err
		}
		if path.IsAbs(target) {
			return ErrEscape
		}
		stack = stack[:len(stack)-1]
		todo = append(strings.Split(target, "/"), todo...)
	}
	return nil
}
