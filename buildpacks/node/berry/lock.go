package berry

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Release is the Yarn release line that writes a lock file format, and why.
type Release struct {
	Spec string // a range for the npm package of Yarn's CLI, e.g. "3.x"
	Why  string
}

// ReleaseForLock reads __metadata.version of a Berry yarn.lock and picks the release line that
// writes that format, so `yarn install --immutable` accepts the lock as it is (a newer Yarn
// rewrites an older format and an immutable install refuses that): versions up to 4 are Yarn 2,
// 5 and 6 Yarn 3, 7 and newer Yarn 4.
func ReleaseForLock(path string) (Release, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Release{}, fmt.Errorf("reading %s: %w", path, err)
	}
	var doc struct {
		Metadata struct {
			Version string `yaml:"version"`
		} `yaml:"__metadata"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Release{}, fmt.Errorf("%s is not a Yarn Berry lock file (YAML): %w; regenerate it with yarn install", path, err)
	}
	v, err := strconv.Atoi(doc.Metadata.Version)
	if err != nil {
		return Release{Spec: "4.x", Why: "yarn.lock gives no __metadata.version, so the newest Yarn 4"}, nil
	}
	why := fmt.Sprintf("yarn.lock format %d is written by Yarn ", v)
	switch {
	case v <= 4:
		return Release{Spec: "2.x", Why: why + "2"}, nil
	case v <= 6:
		return Release{Spec: "3.x", Why: why + "3"}, nil
	}
	return Release{Spec: "4.x", Why: why + "4"}, nil
}

// Package is a package of the lock file, by name and version.
type Package struct {
	Name, Version string
}

// CachedPackages lists the lock file's packages whose archive is in the zip cache dir: a cache
// file ends in the first ten hex digits of the lock entry's checksum (<name>-npm-<version>-<hash>-
// <checksum>.zip), sorted by name and version.
func CachedPackages(lockPath, dir string) ([]Package, error) {
	data, err := os.ReadFile(lockPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", lockPath, err)
	}
	var entries map[string]struct {
		Version    string `yaml:"version"`
		Resolution string `yaml:"resolution"`
		Checksum   string `yaml:"checksum"`
	}
	if err := yaml.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("%s is not a Yarn Berry lock file (YAML): %w; regenerate it with yarn install", lockPath, err)
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the Yarn cache %s: %w", dir, err)
	}
	suffixes := map[string]bool{}
	for _, f := range files {
		if name, ok := strings.CutSuffix(f.Name(), ".zip"); ok && len(name) > 10 {
			suffixes[name[len(name)-10:]] = true
		}
	}
	var out []Package
	for _, e := range entries {
		sum := e.Checksum[strings.LastIndex(e.Checksum, "/")+1:]
		at := strings.LastIndex(e.Resolution, "@npm:")
		if len(sum) < 10 || at <= 0 || !suffixes[sum[:10]] {
			continue
		}
		out = append(out, Package{Name: e.Resolution[:at], Version: e.Version})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}
