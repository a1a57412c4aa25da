package node

// Packages built for another C library (npm's package.json "libc" field: ["musl"], ["glibc"],
// "!musl") cannot load in the image: npm leaves them out when it installs on the matching system,
// but Yarn classic and older pnpm install every optional platform package of a lock file
// (@next/swc-linux-x64-musl, @img/sharp-linuxmusl-x64, ...).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// targetLibc is the C library of the run images (Debian's glibc).
const targetLibc = "glibc"

// libcList is package.json's libc field: a string or a list of strings.
type libcList []string

func (l *libcList) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*l = libcList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// libcMatches applies npm's rule (npm-install-checks' checkList) to a libc field: a listed value
// matches, a negated one ("!musl") excludes, and a list of negations alone admits the rest.
func libcMatches(field []string, libc string) bool {
	if len(field) == 0 {
		return true
	}
	negated, match := 0, false
	for _, entry := range field {
		if name, ok := strings.CutPrefix(entry, "!"); ok {
			negated++
			if name == libc {
				return false
			}
			continue
		}
		match = match || entry == libc
	}
	return match || negated == len(field)
}

// removeForeignLibc removes from a node_modules tree (nested trees and pnpm's .pnpm store
// included) every package whose libc field excludes libc, and returns their names, sorted.
func removeForeignLibc(root, libc string) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipAll
			}
			return err
		}
		if !d.IsDir() || p == root || !isPackageDir(p) {
			return nil
		}
		name, field, err := readLibc(filepath.Join(p, "package.json"))
		if err != nil || libcMatches(field, libc) {
			return err
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("removing %s (built for libc %s): %w", p, strings.Join(field, ", "), err)
		}
		removed = append(removed, name)
		return filepath.SkipDir
	})
	if err != nil {
		return nil, fmt.Errorf("looking for packages built for another libc in %s: %w", root, err)
	}
	sort.Strings(removed)
	return removed, nil
}

// isPackageDir reports whether dir is where a package is installed: node_modules/<name> or
// node_modules/@scope/<name>.
func isPackageDir(dir string) bool {
	parent := filepath.Dir(dir)
	if filepath.Base(parent) == "node_modules" {
		return !strings.HasPrefix(filepath.Base(dir), "@")
	}
	return strings.HasPrefix(filepath.Base(parent), "@") && filepath.Base(filepath.Dir(parent)) == "node_modules"
}

// readLibc reads a package's name and libc field; a directory without package.json has neither.
func readLibc(file string) (string, []string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading %s: %w", file, err)
	}
	var pkg struct {
		Name string   `json:"name"`
		Libc libcList `json:"libc"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", nil, nil // not ours to judge: the package manager installed it
	}
	return pkg.Name, pkg.Libc, nil
}
