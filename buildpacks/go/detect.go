package golang

import (
	"io"
	"os"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

// PlanEntryGo is the build plan entry this buildpack provides and requires.
const PlanEntryGo = "go"

// Detector passes when the application root holds a Go project: a go.mod, a go.work, or a main
// package without either (see DetectShape).
type Detector struct {
	Logger log.Logger
}

// Detect passes for any Go project shape and provides and requires the go plan entry.
func (d Detector) Detect(ctx libcnb.DetectContext) (libcnb.DetectResult, error) {
	logger := d.Logger
	if logger == nil {
		logger = log.NewPaketoLogger(os.Stdout)
	}
	shape := DetectShape(ctx.ApplicationPath)
	if shape == ShapeNone {
		logger.Bodyf("SKIPPED: no go.mod, go.work or main package (.go files of package main) in %s", ctx.ApplicationPath)
		return libcnb.DetectResult{Pass: false}, nil
	}
	logger.Bodyf("Go project: %s", shape)
	return libcnb.DetectResult{
		Pass: true,
		Plans: []libcnb.BuildPlan{{
			Provides: []libcnb.BuildPlanProvide{{Name: PlanEntryGo}},
			Requires: []libcnb.BuildPlanRequire{{Name: PlanEntryGo, Metadata: map[string]interface{}{"build": true}}},
		}},
	}, nil
}

func newLogger(w io.Writer) log.Logger { return log.NewPaketoLogger(w) }
