package berry

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Plug'n'Play files Yarn writes at the project root: the resolver (required before the app), its
// data when not inlined, and the ESM loader.
const (
	PnPFile       = ".pnp.cjs"
	PnPDataFile   = ".pnp.data.json"
	PnPLoaderFile = ".pnp.loader.mjs"
)

// PnP is an installed Plug'n'Play project.
type PnP struct {
	AppDir string
}

// Installed reports whether the install wrote the PnP resolver.
func (p PnP) Installed() bool {
	_, err := os.Stat(filepath.Join(p.AppDir, PnPFile))
	return err == nil
}

// NodeFlags are the node options that load the project through PnP, as `yarn node` sets them:
// --require the resolver, and the ESM loader where Yarn wrote one.
func (p PnP) NodeFlags() []string {
	flags := []string{"--require", filepath.Join(p.AppDir, PnPFile)}
	loader := filepath.Join(p.AppDir, PnPLoaderFile)
	if _, err := os.Stat(loader); err == nil {
		flags = append(flags, "--experimental-loader", "file://"+filepath.ToSlash(loader))
	}
	return flags
}

// PruneCache removes from the zip cache dir every archive the resolver no longer names (after a
// production prune: the devDependencies' zips), so the launch layer holds what the app loads.
// It returns how many zips stay and how many went.
func (p PnP) PruneCache(dir string) (kept, removed int, err error) {
	var refs bytes.Buffer
	for _, name := range []string{PnPFile, PnPDataFile} {
		data, err := os.ReadFile(filepath.Join(p.AppDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("reading %s: %w", filepath.Join(p.AppDir, name), err)
		}
		refs.Write(data)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the Yarn cache %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".zip") {
			continue
		}
		if bytes.Contains(refs.Bytes(), []byte(e.Name())) {
			kept++
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return kept, removed, fmt.Errorf("removing %s from the Yarn cache: %w", e.Name(), err)
		}
		removed++
	}
	return kept, removed, nil
}
