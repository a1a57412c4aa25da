package berry

import (
	"fmt"
	"os"
	"strconv"

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
