package lifecycle

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/distill-build/distill/internal/buildpack"
)

// BuildResult is what the build phase leaves for export.
type BuildResult struct {
	Buildpacks []BuildpackResult
	Processes  []buildpack.Process
	Labels     []buildpack.Label
}

// BuildpackResult is one buildpack's layers.
type BuildpackResult struct {
	Desc   *buildpack.Descriptor
	Dir    string // host layers directory of this buildpack
	Layers []buildpack.Layer
}

// builderPhase runs bin/build of each buildpack in the group.
type builderPhase struct {
	*container
	log io.Writer
}

// Build runs the group in order. Layers with build = true contribute their
// environment to the buildpacks after them.
func (b *builderPhase) Build(ctx context.Context, det *DetectResult) (*BuildResult, error) {
	res := &BuildResult{}
	env := b.env.Clone()
	procs := map[string]int{}
	for _, desc := range det.Group {
		esc := buildpack.EscapedID(desc.Info().ID)
		layers := filepath.Join(b.dirs.host.layers, esc)
		if err := os.MkdirAll(layers, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chown(layers, b.uid, b.gid); err != nil {
			return nil, err
		}
		plan := filepath.Join(b.dirs.host.plan, "build-"+esc+".toml")
		if err := buildpack.WriteTOML(plan, det.Plans[desc.Key()]); err != nil {
			return nil, err
		}
		penv := env.Clone()
		penv["CNB_PLATFORM_DIR"] = b.dirs.box.platform
		penv["CNB_BUILDPACK_DIR"] = b.dirs.module(desc)
		penv["CNB_LAYERS_DIR"] = filepath.Join(b.dirs.box.layers, esc)
		penv["CNB_BP_PLAN_PATH"] = filepath.Join(b.dirs.box.plan, filepath.Base(plan))
		penv["CNB_APP_DIR"] = b.dirs.box.app
		fmt.Fprintf(b.log, "--- %s %s\n", desc.Info().ID, desc.Info().Version)
		if err := b.exec(ctx, desc, "build", penv, b.log); err != nil {
			return nil, moduleFailed(desc, "build", err)
		}
		ls, err := buildpack.ReadLayers(layers)
		if err != nil {
			return nil, err
		}
		launch, err := buildpack.ReadLaunch(layers)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			if l.Types.Build {
				if err := env.AddLayer(l.Path, filepath.Join(b.dirs.box.layers, esc, l.Name), buildpack.PhaseBuild); err != nil {
					return nil, err
				}
			}
		}
		res.Buildpacks = append(res.Buildpacks, BuildpackResult{Desc: desc, Dir: layers, Layers: ls})
		res.Processes = addProcesses(res.Processes, procs, launch.Processes, desc.Info().ID)
		res.Labels = append(res.Labels, launch.Labels...)
	}
	return res, nil
}

// addProcesses adds the processes of buildpack id to procs (index by type
// in procs), as the lifecycle's builder does: a later process of a type
// replaces the earlier one in its place, and a process marked default takes
// the mark from any earlier one, so the last default wins.
func addProcesses(procs []buildpack.Process, index map[string]int, add []buildpack.Process, id string) []buildpack.Process {
	for _, p := range add {
		p.BuildpackID = id
		if p.Default {
			for i := range procs {
				procs[i].Default = false
			}
		}
		if i, ok := index[p.Type]; ok {
			procs[i] = p
			continue
		}
		index[p.Type] = len(procs)
		procs = append(procs, p)
	}
	return procs
}
