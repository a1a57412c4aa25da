package golang

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

// PlanEntryGo is the build plan entry this buildpack provides and requires.
const PlanEntryGo = "go"

// Detector passes when the application has a go.mod at its root.
type Detector struct {
	Logger log.Logger
}

func (d Detector) Detect(ctx libcnb.DetectContext) (libcnb.DetectResult, error) {
	logger := d.Logger
	if logger == nil {
		logger = log.NewPaketoLogger(os.Stdout)
	}
	path := filepath.Join(ctx.ApplicationPath, "go.mod")
	info, err := os.Stat(path)
	switch {
	case os.IsNotExist(err) || (err == nil && info.IsDir()):
		logger.Bodyf("SKIPPED: no go.mod in %s", ctx.ApplicationPath)
		return libcnb.DetectResult{Pass: false}, nil
	case err != nil:
		return libcnb.DetectResult{}, fmt.Errorf("unable to stat %s: %w", path, err)
	}
	return libcnb.DetectResult{
		Pass: true,
		Plans: []libcnb.BuildPlan{{
			Provides: []libcnb.BuildPlanProvide{{Name: PlanEntryGo}},
			Requires: []libcnb.BuildPlanRequire{{Name: PlanEntryGo, Metadata: map[string]interface{}{"build": true}}},
		}},
	}, nil
}

func newLogger(w io.Writer) log.Logger { return log.NewPaketoLogger(w) }
