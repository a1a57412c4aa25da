package python

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/sharedlib"
)

// layoutVersion changes whenever what the buildpack puts in the cpython or venv layer changes,
// so cached layers are rebuilt.
// 2: OpenSSL, zlib and libzstd copied by need (run:base is glibc only); 3: dpkg records of the
// copied Debian packages in var/lib/dpkg/status.d.
const layoutVersion = "3"

// pythonInfo describes a CPython: the build image's, or a foreign target's under its root.
type pythonInfo struct {
	Bin        string // /usr/bin/python3.13 (symlinks resolved)
	Version    pyVersion
	MajorMinor string // "3.13"
	Stdlib     string // /usr/lib/python3.13
	Dynload    string // /usr/lib/python3.13/lib-dynload
}

func inspectPython(bin string) (pythonInfo, error) {
	out, err := exec.Command(bin, "-I", "-c", `import json, sys, sysconfig, os
print(json.dumps({"exe": os.path.realpath(sys.executable), "version": "%d.%d.%d" % sys.version_info[:3],
  "stdlib": sysconfig.get_path("stdlib")}))`).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return pythonInfo{}, fmt.Errorf("unable to run %s: %v %s", bin, err, stderr)
	}
	var raw struct{ Exe, Version, Stdlib string }
	if err := json.Unmarshal(out, &raw); err != nil {
		return pythonInfo{}, fmt.Errorf("unexpected output of %s: %q", bin, out)
	}
	v, ok := parsePyVersion(raw.Version)
	if !ok {
		return pythonInfo{}, fmt.Errorf("%s reports version %q", bin, raw.Version)
	}
	dyn := filepath.Join(raw.Stdlib, "lib-dynload")
	return pythonInfo{Bin: raw.Exe, Version: v, MajorMinor: pyVersion{N: v.N[:2]}.String(), Stdlib: raw.Stdlib, Dynload: dyn}, nil
}

// findPython is the build image's python3.
func findPython() (string, error) {
	for _, c := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no python3 in the build image (looked for /usr/bin/python3 and python3 on PATH)")
}

// Optional stdlib parts: pruned unless BP_PYTHON_KEEP_MODULES names them.
var optionalParts = map[string]struct {
	dirs    []string // stdlib-relative directories
	dynload []string // lib-dynload module name prefixes
}{
	"curses":     {dirs: []string{"curses"}, dynload: []string{"_curses"}},
	"readline":   {dynload: []string{"readline"}},
	"dbm":        {dynload: []string{"_dbm"}}, // dbm.gnu/ndbm (libdb, 2 MB); dbm.sqlite3 and dbm.dumb stay
	"pydoc_data": {dirs: []string{"pydoc_data"}},
}

// Always pruned: tests, IDEs, GUI toolkits, installers, headers and static libraries.
var prunedDirs = []string{"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "__phello__"}
var prunedFiles = []string{"turtle.py", "_pydecimal.py", "EXTERNALLY-MANAGED", "__hello__.py", "sitecustomize.py"}
var prunedDynload = []string{"_test", "_xxtestfuzz", "xxlimited", "xxsubtype", "_ctypes_test", "_tkinter"}

// cpythonResult is what installCPython wrote.
type cpythonResult struct {
	Libs  []string    // copied shared libraries (sonames)
	Files []dpkg.File // every regular file copied from the build image, for the dpkg records
	Bytes int64
}

// installCPython copies the CPython py describes into dir (bin/python3.13, lib/python3.X,
// lib/*.so for libraries run:base lacks, found under root: "/" for the build image's, a
// foreign target's root for its), pruned.
func installCPython(py pythonInfo, root, dir string, keep map[string]bool) (cpythonResult, error) {
	var res cpythonResult
	bin := filepath.Join(dir, "bin")
	lib := filepath.Join(dir, "lib")
	stdlib := filepath.Join(lib, "python"+py.MajorMinor)
	for _, d := range []string{bin, lib} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return res, err
		}
	}
	exe := filepath.Join(bin, "python"+py.MajorMinor)
	if err := copyFile(py.Bin, exe, 0o755); err != nil {
		return res, err
	}
	res.Files = append(res.Files, dpkg.File{Src: py.Bin, Dest: exe})
	for _, l := range []string{"python3", "python"} {
		if err := os.Symlink("python"+py.MajorMinor, filepath.Join(bin, l)); err != nil {
			return res, err
		}
	}

	elfs, err := copyStdlib(py, stdlib, keep, &res)
	if err != nil {
		return res, fmt.Errorf("copying the standard library from %s: %w", py.Stdlib, err)
	}

	// Shared libraries the interpreter and the kept extension modules need that run:base lacks.
	libs, err := sharedlib.NeededIn(root, append([]string{py.Bin}, elfs...), sharedlib.RunBase)
	if err != nil {
		return res, err
	}
	if _, err := sharedlib.CopyInto(libs, lib); err != nil {
		return res, err
	}
	res.Libs = sharedlib.Sonames(libs)
	for _, l := range libs {
		res.Files = append(res.Files, dpkg.File{Src: l.Path, Dest: filepath.Join(lib, l.Soname)})
	}
	res.Bytes, _ = dirSize(dir)
	return res, nil
}

// copyStdlib copies py's standard library into stdlib, pruned (keep names the optional parts
// kept), recording each file it copies in res. It returns the extension modules it copied.
func copyStdlib(py pythonInfo, stdlib string, keep map[string]bool, res *cpythonResult) ([]string, error) {
	drop := map[string]bool{}
	for _, d := range prunedDirs {
		drop[d] = true
	}
	for _, f := range prunedFiles {
		drop[f] = true
	}
	dynDrop := append([]string{}, prunedDynload...)
	for name, part := range optionalParts {
		if keep[name] {
			continue
		}
		for _, d := range part.dirs {
			drop[d] = true
		}
		dynDrop = append(dynDrop, part.dynload...)
	}
	var elfs []string
	err := filepath.WalkDir(py.Stdlib, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(py.Stdlib, p)
		if rel == "." {
			return nil
		}
		base := d.Name()
		if drop[rel] || base == "__pycache__" || strings.HasPrefix(rel, "config-") || strings.HasPrefix(rel, "site-packages") || strings.HasPrefix(rel, "dist-packages") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Dir(p) == py.Dynload {
			for _, pre := range dynDrop {
				if strings.HasPrefix(base, pre) {
					return nil
				}
			}
		}
		dst := filepath.Join(stdlib, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if filepath.IsAbs(target) || strings.HasPrefix(filepath.Clean(filepath.Join(filepath.Dir(rel), target)), "..") {
				return nil // points outside the stdlib (Debian's /etc/python3.X/sitecustomize.py)
			}
			return os.Symlink(target, dst)
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type().IsRegular():
			if strings.HasSuffix(base, ".pyc") {
				return nil
			}
			mode := os.FileMode(0o644)
			if strings.HasSuffix(base, ".so") {
				mode = 0o755
				elfs = append(elfs, p)
			}
			res.Files = append(res.Files, dpkg.File{Src: p, Dest: dst})
			return copyFile(p, dst, mode)
		}
		return nil
	})
	return elfs, err
}

// pythonFingerprint identifies the build image's interpreter and stdlib for the layer cache key.
func pythonFingerprint(py pythonInfo) (string, error) {
	h := sha256.New()
	f, err := os.Open(py.Bin)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	fmt.Fprintf(h, "\x00%s\x00%s", py.Version, py.Stdlib)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// compileAll byte-compiles dir with python. unchecked-hash .pyc files are used as they are,
// whatever the exported files' timestamps (the image normalises them).
func compileAll(python, dir, mode string, quietErrors bool) ([]byte, error) {
	args := []string{"-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", mode, "-x", `(^|/)\.|/site-packages/pip/|/__pycache__/`, dir}
	cmd := exec.Command(python, args...)
	out, err := cmd.CombinedOutput()
	if err != nil && !quietErrors {
		return out, fmt.Errorf("%s %s failed (%v):\n%s", python, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n, err
}
