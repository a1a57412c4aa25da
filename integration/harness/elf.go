package harness

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// elfFile is what the dynamic loader needs to start one ELF file of an image.
type elfFile struct {
	needed  []string
	runpath []string // DT_RUNPATH (or DT_RPATH), $ORIGIN expanded
}

// CheckELFDeps fails t for every shared library an ELF file in the image needs that the loader
// would not find inside the image: in the file's run path, in a launch layer's lib/ (which the CNB
// launcher puts on LD_LIBRARY_PATH) or in the system library directories. It returns how many
// ELF files it checked. This is how the tests hold "the image carries what its runtimes load".
func CheckELFDeps(t testing.TB, layoutOrRef string) int {
	t.Helper()
	entries, elfs, err := readELFs(Image(t, layoutOrRef))
	if err != nil {
		t.Fatalf("reading the ELF files of %s: %v", layoutOrRef, err)
	}
	var layerLibs []string
	for p, e := range entries {
		if e.IsDir() && strings.HasPrefix(p, "/layers/") && path.Base(p) == "lib" && strings.Count(p, "/") == 4 {
			layerLibs = append(layerLibs, p)
		}
	}
	sort.Strings(layerLibs)
	system := []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	var missing []string
	for file, f := range elfs {
		dirs := append(append(append([]string{}, f.runpath...), layerLibs...), system...)
		for _, soname := range f.needed {
			if soname == "linux-vdso.so.1" || findLib(entries, dirs, soname) {
				continue
			}
			missing = append(missing, fmt.Sprintf("%s needs %s", file, soname))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s: not in the image (searched its run path, %s and the system library directories)", m, strings.Join(layerLibs, ", "))
	}
	return len(elfs)
}

// findLib reports whether soname resolves, symlinks followed, to a regular file in one of dirs.
func findLib(entries map[string]Entry, dirs []string, soname string) bool {
	for _, d := range dirs {
		if e, ok := resolveEntry(entries, path.Join(d, soname)); ok && e.IsRegular() {
			return true
		}
	}
	return false
}

// resolveEntry follows symlinks (in the path's directories too, as /lib -> usr/lib) through the
// image's entries.
func resolveEntry(entries map[string]Entry, p string) (Entry, bool) {
	for hops := 0; hops < 40; hops++ {
		parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
		cur, redirected := "/", false
		for i, part := range parts {
			next := path.Join(cur, part)
			e, ok := entries[next]
			if !ok {
				return Entry{}, false
			}
			if e.IsSymlink() {
				target := e.Linkname
				if !path.IsAbs(target) {
					target = path.Join(cur, target)
				}
				p = path.Join(append([]string{target}, parts[i+1:]...)...)
				redirected = true
				break
			}
			cur = next
		}
		if !redirected {
			e, ok := entries[cur]
			return e, ok
		}
	}
	return Entry{}, false
}

// readELFs reads the image's flattened filesystem and the dynamic section of every dynamically
// linked ELF file in it.
func readELFs(img v1.Image) (map[string]Entry, map[string]elfFile, error) {
	elfs := map[string]elfFile{}
	entries, err := flattenVisit(img, func(e Entry, r io.Reader) error {
		magic := make([]byte, 4)
		if _, err := io.ReadFull(r, magic); err != nil || !bytes.Equal(magic, []byte(elf.ELFMAG)) {
			return nil
		}
		rest, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("reading %s: %w", e.Path, err)
		}
		f, ok, err := elfOf(e.Path, append(magic, rest...))
		if ok {
			elfs[e.Path] = f
		}
		return err
	})
	return entries, elfs, err
}

// elfOf parses one file's dynamic section; ok is false for a file that is not ELF or is static.
func elfOf(file string, data []byte) (elfFile, bool, error) {
	if !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return elfFile{}, false, nil
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return elfFile{}, false, fmt.Errorf("%s: %w", file, err)
	}
	defer f.Close()
	needed, err := f.DynString(elf.DT_NEEDED)
	if err != nil || len(needed) == 0 {
		return elfFile{}, false, nil
	}
	out := elfFile{needed: needed}
	rp, _ := f.DynString(elf.DT_RUNPATH)
	if len(rp) == 0 {
		rp, _ = f.DynString(elf.DT_RPATH)
	}
	for _, list := range rp {
		for _, d := range strings.Split(list, ":") {
			d = strings.NewReplacer("$ORIGIN", path.Dir(file), "${ORIGIN}", path.Dir(file)).Replace(d)
			if path.IsAbs(d) {
				out.runpath = append(out.runpath, path.Clean(d))
			}
		}
	}
	return out, true, nil
}
