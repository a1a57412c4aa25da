// Package sharedlib finds the shared libraries that ELF files load and a run image lacks, so a
// buildpack can copy exactly those into its launch layer (`<layer>/lib` is on LD_LIBRARY_PATH at
// launch: buildpack spec, "Layer Paths").
//
// It reads DT_NEEDED, DT_RUNPATH and DT_RPATH with debug/elf, as the dynamic loader would
// (ld.so(8)): a library found through the file's own run path ($ORIGIN) travels with the file; any
// other is looked up in the build image's library directories for the file's architecture, and
// followed for what it needs in turn.
package sharedlib

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// runBase is what distill/run:base provides (stacks/run-base.toml): glibc's libraries from libc6
// without libmvec, and libgcc_s from libgcc-s1. linux-vdso is the kernel's.
var runBase = map[string]bool{
	"ld-linux-x86-64.so.2": true, "ld-linux-aarch64.so.1": true, "linux-vdso.so.1": true,
	"libc.so.6": true, "libm.so.6": true, "libdl.so.2": true, "libpthread.so.0": true, "librt.so.1": true,
	"libutil.so.1": true, "libresolv.so.2": true, "libanl.so.1": true, "libnsl.so.1": true,
	"libBrokenLocale.so.1": true, "libc_malloc_debug.so.0": true, "libthread_db.so.1": true,
	"libnss_files.so.2": true, "libnss_dns.so.2": true, "libnss_compat.so.2": true, "libnss_hesiod.so.2": true,
	"libgcc_s.so.1": true,
}

// RunBase reports whether distill/run:base provides the library soname.
func RunBase(soname string) bool { return runBase[soname] }

// Library is one shared library a set of ELF files needs.
type Library struct {
	Soname string // the DT_NEEDED name, e.g. "libssl.so.3"
	Path   string // the file it resolves to in the build image, symlinks followed
	For    string // the first file that needs it (for messages)
}

// Needed returns the libraries that files load, directly or through another needed library, and
// that provided does not cover, sorted by soname. Files that are not ELF are skipped. A library
// found nowhere is an error naming the file that needs it.
func Needed(files []string, provided func(soname string) bool) ([]Library, error) {
	return NeededIn("/", files, provided)
}

// NeededIn is Needed for files of the system at root (a target root: another architecture's
// Debian packages, internal/buildpack.TargetRoot): libraries are looked up in root's library
// directories for each file's machine, and Library.Path is a path under root. A library that
// resolves outside root is an error.
func NeededIn(root string, files []string, provided func(soname string) bool) ([]Library, error) {
	root = filepath.Clean(root)
	found := map[string]Library{}
	queue := slices.Clone(files)
	seen := map[string]bool{}
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		if seen[file] {
			continue
		}
		seen[file] = true
		deps, err := needs(file)
		if err != nil {
			return nil, err
		}
		for _, d := range deps.needed {
			if provided(d) || found[d].Path != "" || deps.bundled(d) {
				continue
			}
			p, err := resolve(root, d, deps.machine)
			if err != nil {
				return nil, fmt.Errorf("%s needs %s: %w", file, d, err)
			}
			found[d] = Library{Soname: d, Path: p, For: file}
			queue = append(queue, p)
		}
	}
	out := make([]Library, 0, len(found))
	for _, l := range found {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Library) int { return strings.Compare(a.Soname, b.Soname) })
	return out, nil
}

// CopyInto copies each library into dir under its soname (the name the loader looks for), with
// mode 0755; dir is created. It returns the total bytes copied.
func CopyInto(libs []Library, dir string) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("creating %s: %w", dir, err)
	}
	var total int64
	for _, l := range libs {
		data, err := os.ReadFile(l.Path)
		if err != nil {
			return total, fmt.Errorf("reading %s (%s): %w", l.Path, l.Soname, err)
		}
		if err := os.WriteFile(filepath.Join(dir, l.Soname), data, 0o755); err != nil {
			return total, fmt.Errorf("copying %s into %s: %w", l.Soname, dir, err)
		}
		total += int64(len(data))
	}
	return total, nil
}

// Sonames lists the libraries' sonames.
func Sonames(libs []Library) []string {
	out := make([]string, len(libs))
	for i, l := range libs {
		out[i] = l.Soname
	}
	return out
}

// deps is what one ELF file asks of the loader.
type deps struct {
	file    string
	machine elf.Machine
	needed  []string
	runpath []string // DT_RUNPATH, or DT_RPATH when there is none, with $ORIGIN expanded
}

// bundled reports whether soname sits in one of the file's own run path directories.
func (d deps) bundled(soname string) bool {
	for _, dir := range d.runpath {
		if _, err := os.Stat(filepath.Join(dir, soname)); err == nil {
			return true
		}
	}
	return false
}

// needs reads file's dynamic section; a file that is not ELF needs nothing.
func needs(file string) (deps, error) {
	f, err := elf.Open(file)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return deps{file: file}, nil
		}
		return deps{}, fmt.Errorf("reading %s: %w", file, err)
	}
	defer f.Close()
	d := deps{file: file, machine: f.Machine}
	if d.needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return deps{}, fmt.Errorf("reading the dynamic section of %s: %w", file, err)
	}
	rp, _ := f.DynString(elf.DT_RUNPATH)
	if len(rp) == 0 {
		rp, _ = f.DynString(elf.DT_RPATH)
	}
	origin := filepath.Dir(file)
	for _, list := range rp {
		for _, dir := range filepath.SplitList(list) {
			dir = strings.NewReplacer("$ORIGIN", origin, "${ORIGIN}", origin).Replace(dir)
			if filepath.IsAbs(dir) {
				d.runpath = append(d.runpath, dir)
			}
		}
	}
	return d, nil
}

// libDirs are the directories the loader searches on Debian for an architecture (multiarch
// triplet first, then the legacy ones).
func libDirs(m elf.Machine) []string {
	triplet := map[elf.Machine]string{elf.EM_X86_64: "x86_64-linux-gnu", elf.EM_AARCH64: "aarch64-linux-gnu"}[m]
	var dirs []string
	if triplet != "" {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

// resolve finds soname in the library directories for machine of the system at root.
func resolve(root, soname string, m elf.Machine) (string, error) {
	for _, dir := range libDirs(m) {
		p, err := filepath.EvalSymlinks(filepath.Join(root, dir, soname))
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(root, p); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", fmt.Errorf("%s resolves to %s, outside %s", filepath.Join(root, dir, soname), p, root)
		}
		return p, nil
	}
	where := strings.Join(libDirs(m), ", ")
	if root != "/" {
		where += " under " + root
	}
	return "", fmt.Errorf("not found in %s", where)
}
