package python

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// sitePackages is the site-packages directory of the venv (or prefix) dir for py.
func sitePackages(dir string, py pythonInfo) string {
	return filepath.Join(dir, "lib", "python"+py.MajorMinor, "site-packages")
}

// makeVenv creates a venv without pip at dir over layerPython (the cpython layer's
// interpreter, of version py): natively with its own venv module; for a foreign target, whose
// interpreter cannot run here, by writing what that module writes (pyvenv.cfg, bin/python*
// symlinks, lib/pythonX.Y/site-packages, lib64).
func makeVenv(py pythonInfo, layerPython string, t *foreignTarget, dir string) error {
	if t == nil {
		if out, err := exec.Command(layerPython, "-I", "-m", "venv", "--without-pip", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("creating the venv %s failed (%v):\n%s", dir, err, out)
		}
		return nil
	}
	for _, d := range []string{filepath.Join(dir, "bin"), sitePackages(dir, py)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("creating the venv %s: %w", dir, err)
		}
	}
	links := [][2]string{{layerPython, "bin/python"}, {"python", "bin/python3"}, {"python", "bin/python" + py.MajorMinor}, {"lib", "lib64"}}
	for _, l := range links {
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			return fmt.Errorf("creating the venv %s: %w", dir, err)
		}
	}
	cfg := fmt.Sprintf("home = %s\ninclude-system-site-packages = false\nversion = %s\nexecutable = %s\ncommand = %s -m venv --without-pip %s\n",
		filepath.Dir(layerPython), py.Version, layerPython, layerPython, dir)
	if err := os.WriteFile(filepath.Join(dir, "pyvenv.cfg"), []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("creating the venv %s: %w", dir, err)
	}
	return nil
}

// uninstallRecorded removes the distributions names (normalised) from the venv root as pip
// uninstall would, which cannot run against a foreign target's venv: every file its
// dist-info's RECORD lists (paths relative to site-packages), the dist-info, and the
// directories left empty.
func uninstallRecorded(root string, names []string) error {
	infos, err := filepath.Glob(filepath.Join(root, "lib", "python*", "site-packages", "*.dist-info"))
	if err != nil {
		return err
	}
	for _, info := range infos {
		name, _, _ := strings.Cut(filepath.Base(info), "-")
		if !slices.Contains(names, normalize(name)) {
			continue
		}
		site := filepath.Dir(info)
		f, err := os.Open(filepath.Join(info, "RECORD"))
		if err != nil {
			return fmt.Errorf("uninstalling %s: %w", name, err)
		}
		dirs := map[string]bool{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			rel, _, _ := strings.Cut(sc.Text(), ",")
			if p := filepath.Join(site, filepath.FromSlash(rel)); rel != "" && strings.HasPrefix(p, root+string(filepath.Separator)) {
				os.Remove(p)
				dirs[filepath.Dir(p)] = true
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return fmt.Errorf("reading %s/RECORD: %w", info, err)
		}
		if err := os.RemoveAll(info); err != nil {
			return fmt.Errorf("uninstalling %s: %w", name, err)
		}
		for d := range dirs {
			removeEmptyDirs(d, site)
		}
	}
	return nil
}

// removeEmptyDirs removes dir and its parents up to (not including) stop while they are empty
// (a __pycache__ pip --no-compile never wrote counts as absent).
func removeEmptyDirs(dir, stop string) {
	for strings.HasPrefix(dir, stop+string(filepath.Separator)) {
		os.Remove(filepath.Join(dir, "__pycache__"))
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
