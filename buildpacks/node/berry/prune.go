package berry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Prune is how to turn a full install into a production one with this Yarn.
type Prune struct {
	Args []string          // the yarn command line
	Env  map[string]string // what it needs besides: never run lifecycle scripts
	// StripDev: before Args runs, the workspaces' devDependencies are taken out of their
	// package.json (and put back, with yarn.lock, afterwards), since Yarn 2 and 3 have no
	// `workspaces focus` without the workspace-tools plugin.
	StripDev bool
}

// ProductionPrune chooses the prune: `workspaces focus --all --production` where the command
// exists, else a plain install of the manifests without their devDependencies, which is what
// focus does (the lock file and manifests are restored afterwards).
func ProductionPrune(c Config, version string) Prune {
	env := map[string]string{"YARN_ENABLE_SCRIPTS": "false"}
	if c.CanFocus(version) {
		return Prune{Args: []string{"workspaces", "focus", "--all", "--production"}, Env: env}
	}
	env["YARN_ENABLE_IMMUTABLE_INSTALLS"] = "false"
	return Prune{Args: []string{"install"}, Env: env, StripDev: true}
}

// StripDevDependencies removes "devDependencies" from the package.json of each directory
// (relative to appDir, "." the root) and returns how to put them, and yarn.lock, back as they were.
func StripDevDependencies(appDir string, dirs []string) (restore func() error, err error) {
	saved := map[string][]byte{}
	restore = func() error {
		var errs []error
		for p, data := range saved {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				errs = append(errs, fmt.Errorf("restoring %s: %w", p, err))
			}
		}
		return errors.Join(errs...)
	}
	lock := filepath.Join(appDir, "yarn.lock")
	if data, err := os.ReadFile(lock); err == nil {
		saved[lock] = data
	} else if !errors.Is(err, fs.ErrNotExist) {
		return restore, fmt.Errorf("reading %s: %w", lock, err)
	}
	for _, d := range dirs {
		p := filepath.Join(appDir, filepath.FromSlash(d), "package.json")
		data, err := os.ReadFile(p)
		if err != nil {
			return restore, fmt.Errorf("reading %s: %w", p, err)
		}
		stripped, changed, err := withoutDevDependencies(data)
		if err != nil {
			return restore, fmt.Errorf("%s: %w", p, err)
		}
		if !changed {
			continue
		}
		saved[p] = data
		if err := os.WriteFile(p, stripped, 0o644); err != nil {
			return restore, fmt.Errorf("writing %s without devDependencies: %w", p, err)
		}
	}
	return restore, nil
}

// withoutDevDependencies is the manifest without its "devDependencies" field.
func withoutDevDependencies(data []byte) ([]byte, bool, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &m); err != nil {
		return nil, false, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, ok := m["devDependencies"]; !ok {
		return data, false, nil
	}
	delete(m, "devDependencies")
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, false, err
	}
	return append(out, '\n'), true, nil
}
