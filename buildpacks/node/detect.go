package node

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

// PlanEntryNode is the build plan entry this buildpack provides and requires.
const PlanEntryNode = "node"

// entryFiles are the files that make a directory without package.json a Node.js app.
var entryFiles = []string{"server.js", "app.js", "index.js"}

// Detector passes when the application has a package.json, or one of server.js, app.js, index.js,
// at its root.
type Detector struct {
	Logger log.Logger
}

func (d Detector) Detect(ctx libcnb.DetectContext) (libcnb.DetectResult, error) {
	logger := d.Logger
	if logger == nil {
		logger = newLogger(os.Stdout)
	}
	found := ""
	for _, name := range append([]string{"package.json"}, entryFiles...) {
		ok, err := isFile(filepath.Join(ctx.ApplicationPath, name))
		if err != nil {
			return libcnb.DetectResult{}, err
		}
		if ok {
			found = name
			break
		}
	}
	if found == "" {
		logger.Bodyf("SKIPPED: no package.json, server.js, app.js or index.js in %s", ctx.ApplicationPath)
		return libcnb.DetectResult{Pass: false}, nil
	}
	logger.Bodyf("Found %s", found)
	return libcnb.DetectResult{
		Pass: true,
		Plans: []libcnb.BuildPlan{{
			Provides: []libcnb.BuildPlanProvide{{Name: PlanEntryNode}},
			Requires: []libcnb.BuildPlanRequire{{Name: PlanEntryNode, Metadata: map[string]interface{}{"build": true, "launch": true}}},
		}},
	}, nil
}

// isFile reports whether path is a regular file (following symlinks).
func isFile(path string) (bool, error) {
	info, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("unable to stat %s: %w", path, err)
	}
	return info.Mode().IsRegular(), nil
}

func newLogger(w io.Writer) log.Logger { return log.NewPaketoLogger(w) }
