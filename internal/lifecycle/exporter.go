package lifecycle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/image"
)

// CNB label keys written on every exported image.
const (
	LabelLifecycleMetadata = "io.buildpacks.lifecycle.metadata"
	LabelBuildMetadata     = "io.buildpacks.build.metadata"
	LabelProjectMetadata   = "io.buildpacks.project.metadata"
	LabelStackID           = "io.buildpacks.stack.id"
)

// ExportedLayer describes one layer of the exported image for the report.
type ExportedLayer struct {
	Name     string // "run image", "distill/go:app", "app", "sbom"
	DiffID   string
	RunImage bool // part of the run image
	Cached   bool // the same layer as the previous build's
}

// exporter puts the launch layers and the app on the run image.
type exporter struct {
	dirs        *workDirs
	uid, gid    int
	previous    map[string]string // layer name → diff ID of the last build
	blobs       string            // compressed layer blobs kept between builds
	compression image.Compression
}

// Export builds the app image. Nothing is written anywhere: the caller writes
// the image to its target.
func (e *exporter) Export(run v1.Image, runRef string, res *BuildResult) (v1.Image, []ExportedLayer, error) {
	staging := filepath.Join(e.dirs.root, "staging")
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return nil, nil, err
	}
	runLayers, err := run.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("reading run image %s: %w", runRef, err)
	}
	runDigest, err := run.Digest()
	if err != nil {
		return nil, nil, err
	}
	var exported []ExportedLayer
	topLayer := ""
	for _, l := range runLayers {
		d, err := l.DiffID()
		if err != nil {
			return nil, nil, err
		}
		topLayer = d.String()
		exported = append(exported, ExportedLayer{Name: "run image  " + runRef, DiffID: d.String(), RunImage: true})
	}

	owner := image.WithOwner(e.uid, e.gid)
	var adds []mutate.Addendum
	add := func(name, dir, prefix string, opts ...image.LayerOption) (string, error) {
		l, err := image.LayerFromDir(dir, append([]image.LayerOption{
			image.WithPrefix(prefix), owner, image.WithStaging(staging),
			image.WithBlobCache(e.blobs), image.WithCompression(e.compression),
		}, opts...)...)
		if err != nil {
			return "", fmt.Errorf("exporting layer %s: %w", name, err)
		}
		d, err := l.DiffID()
		if err != nil {
			return "", fmt.Errorf("exporting layer %s: %w", name, err)
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{
			Created: v1.Time{Time: image.Epoch}, CreatedBy: "distill: " + name, Comment: "buildpacks",
		}})
		exported = append(exported, ExportedLayer{Name: name, DiffID: d.String(), Cached: e.previous[name] == d.String()})
		return d.String(), nil
	}

	md := lifecycleMetadata{RunImage: runImageMetadata{TopLayer: topLayer, Reference: runDigest.String(), Image: runRef}}
	md.Stack.RunImage.Image = runRef
	env, err := runEnv(run)
	if err != nil {
		return nil, nil, err
	}
	var bps []buildpackRef
	for _, bp := range res.Buildpacks {
		info := bp.Desc.Info()
		bps = append(bps, buildpackRef{ID: info.ID, Version: info.Version, Homepage: info.Homepage})
		bmd := buildpackLayersMetadata{Key: info.ID, Version: info.Version, Layers: map[string]layerMetadata{}}
		esc := buildpack.EscapedID(info.ID)
		for _, l := range bp.Layers {
			if !l.Types.Launch {
				continue
			}
			if _, err := os.Stat(l.Path); err != nil {
				continue // metadata only: nothing to export
			}
			imagePath := filepath.Join(LayersDir, esc, l.Name)
			sha, err := add(info.ID+":"+l.Name, l.Path, imagePath)
			if err != nil {
				return nil, nil, err
			}
			bmd.Layers[l.Name] = layerMetadata{SHA: sha, Data: l.Metadata, Launch: true, Build: l.Types.Build, Cache: l.Types.Cache}
			if err := env.AddLayer(l.Path, imagePath, buildpack.PhaseLaunch); err != nil {
				return nil, nil, err
			}
		}
		md.Buildpacks = append(md.Buildpacks, bmd)
	}
	if sbomDir, ok, err := e.collectSBOM(res); err != nil {
		return nil, nil, err
	} else if ok {
		sha, err := add("sbom", sbomDir, filepath.Join(LayersDir, "sbom"))
		if err != nil {
			return nil, nil, err
		}
		md.BOM = &layerRef{SHA: sha}
	}
	sha, err := add("app", e.dirs.host.app, AppDir)
	if err != nil {
		return nil, nil, err
	}
	md.App = []layerRef{{SHA: sha}}

	img, err := mutate.Append(image.OCI(run), adds...)
	if err != nil {
		return nil, nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	cfg := cf.Config
	env["CNB_APP_DIR"] = AppDir
	env["CNB_LAYERS_DIR"] = LayersDir
	cfg.Env = env.List()
	cfg.WorkingDir = AppDir
	if cfg.User == "" || cfg.User == "0" || cfg.User == "root" {
		cfg.User = strconv.Itoa(e.uid) + ":" + strconv.Itoa(e.gid)
	}
	cfg.Entrypoint, cfg.Cmd = nil, nil
	if p, ok := defaultProcess(res.Processes); ok {
		if p.IsDirect() {
			cfg.Entrypoint, cfg.Cmd = p.Command, p.Args
		} else {
			cfg.Entrypoint = []string{"/bin/sh", "-c", strings.Join(append(append([]string{}, p.Command...), p.Args...), " ")}
		}
		if p.WorkingDirectory != "" {
			cfg.WorkingDir = p.WorkingDirectory
		}
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for _, l := range res.Labels {
		cfg.Labels[l.Key] = l.Value
	}
	bm := buildMetadata{Processes: res.Processes, Buildpacks: bps}
	if bm.Processes == nil {
		bm.Processes = []buildpack.Process{}
	}
	for k, v := range map[string]any{LabelLifecycleMetadata: md, LabelBuildMetadata: bm, LabelProjectMetadata: struct{}{}} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, nil, err
		}
		cfg.Labels[k] = string(b)
	}
	img, err = mutate.Config(img, cfg)
	if err != nil {
		return nil, nil, err
	}
	img, err = mutate.CreatedAt(img, v1.Time{Time: image.Epoch})
	if err != nil {
		return nil, nil, err
	}
	return img, exported, nil
}

// collectSBOM gathers <layers>/<bp>/<layer>.sbom.*.json of launch layers and
// launch.sbom.*.json into the CNB SBOM layout (/layers/sbom/launch/<bp>/...).
func (e *exporter) collectSBOM(res *BuildResult) (string, bool, error) {
	dir := filepath.Join(e.dirs.root, "sbom")
	found := false
	for _, bp := range res.Buildpacks {
		esc := buildpack.EscapedID(bp.Desc.Info().ID)
		files, err := filepath.Glob(filepath.Join(bp.Dir, "*.sbom.*.json"))
		if err != nil {
			return "", false, err
		}
		for _, f := range files {
			name := filepath.Base(f)
			layer, ext, _ := strings.Cut(name, ".sbom.")
			dst := filepath.Join(dir, "launch", esc, layer, "sbom."+ext)
			if layer == "launch" {
				dst = filepath.Join(dir, "launch", esc, "sbom."+ext)
			} else if !isLaunchLayer(bp.Layers, layer) {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return "", false, err
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return "", false, err
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return "", false, err
			}
			found = true
		}
	}
	return dir, found, nil
}

func isLaunchLayer(layers []buildpack.Layer, name string) bool {
	for _, l := range layers {
		if l.Name == name {
			return l.Types.Launch
		}
	}
	return false
}

// defaultProcess is the process marked default, else "web", else the only one.
func defaultProcess(procs []buildpack.Process) (buildpack.Process, bool) {
	for _, p := range procs {
		if p.Default {
			return p, true
		}
	}
	for _, p := range procs {
		if p.Type == "web" {
			return p, true
		}
	}
	if len(procs) == 1 {
		return procs[0], true
	}
	return buildpack.Process{}, false
}

func runEnv(run v1.Image) (buildpack.Env, error) {
	cf, err := run.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading run image config: %w", err)
	}
	return buildpack.NewEnv(cf.Config.Env), nil
}

// The label shapes below are the ones the CNB lifecycle writes, so pack
// inspect and pack rebase read distill's images.
type lifecycleMetadata struct {
	App        []layerRef                `json:"app"`
	BOM        *layerRef                 `json:"sbom,omitempty"`
	Buildpacks []buildpackLayersMetadata `json:"buildpacks"`
	RunImage   runImageMetadata          `json:"runImage"`
	Stack      struct {
		RunImage struct {
			Image string `json:"image"`
		} `json:"runImage"`
	} `json:"stack"`
}

type layerRef struct {
	SHA string `json:"sha"`
}

type buildpackLayersMetadata struct {
	Key     string                   `json:"key"`
	Version string                   `json:"version"`
	Layers  map[string]layerMetadata `json:"layers"`
}

type layerMetadata struct {
	SHA    string         `json:"sha"`
	Data   map[string]any `json:"data,omitempty"`
	Launch bool           `json:"launch"`
	Build  bool           `json:"build"`
	Cache  bool           `json:"cache"`
}

type runImageMetadata struct {
	TopLayer  string `json:"topLayer"`
	Reference string `json:"reference"`
	Image     string `json:"image,omitempty"`
}

type buildpackRef struct {
	ID       string `json:"id"`
	Version  string `json:"version"`
	Homepage string `json:"homepage,omitempty"`
}

type buildMetadata struct {
	Processes  []buildpack.Process `json:"processes"`
	Buildpacks []buildpackRef      `json:"buildpacks"`
	Launcher   struct{}            `json:"launcher"`
}
