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
	"github.com/distill-build/distill/internal/cnbmeta"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/sbom"
)

// CNB label keys written on every exported image.
const ()

// LayerKind says what an exported layer holds.
type LayerKind string

// The kinds of exported layers, in the order they appear in the image.
const (
	RunImageLayer  LayerKind = "run-image" // one of the run image's layers
	BuildpackLayer LayerKind = "buildpack" // a buildpack's launch layer, /layers/<escaped id>/<layer>
	SBOMLayer      LayerKind = "sbom"      // the launch SBOMs, /layers/sbom
	AppLayer       LayerKind = "app"       // the workspace, /workspace
)

// LayerID names an exported layer the same way in every build.
type LayerID struct {
	Kind LayerKind
	// RunImage is the run image reference, for RunImageLayer.
	RunImage string
	// Buildpack and Layer are the buildpack ID and the layer name, for BuildpackLayer.
	Buildpack, Layer string
}

// Key is the ID as the cache records it: "<buildpack id>:<layer>" for a
// buildpack layer ("distill/go:app"), "sbom", "app"; the run image's layers
// share "run-image <ref>".
func (id LayerID) Key() string {
	switch id.Kind {
	case BuildpackLayer:
		return id.Buildpack + ":" + id.Layer
	case RunImageLayer:
		return string(id.Kind) + " " + id.RunImage
	}
	return string(id.Kind)
}

// ExportedLayer is one layer of the exported image, in image order, as the
// exporter wrote it or took it from the run image: describing it reads nothing.
type ExportedLayer struct {
	ID     LayerID
	DiffID v1.Hash // sha256 of the uncompressed tar
	Digest v1.Hash // sha256 of the compressed blob
	// Compressed and Uncompressed are the sizes of the blob and of the tar, in bytes.
	Compressed, Uncompressed int64
	// Reused is true for the run image's layers and for a layer with the
	// same diff ID as the previous build's layer of the same Key.
	Reused bool
}

// exporter puts the launch layers and the app on the run image.
type exporter struct {
	dirs        *workDirs
	uid, gid    int
	previous    map[string]string // LayerID.Key() → diff ID of the last build
	blobs       string            // compressed layer blobs and layer sizes kept between builds
	compression image.Compression
}

// Export builds the app image. Nothing is written anywhere: the caller writes
// the image to its target.
func (e *exporter) Export(run v1.Image, runRef string, res *BuildResult) (v1.Image, []ExportedLayer, error) {
	staging := filepath.Join(e.dirs.root, "staging")
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return nil, nil, fmt.Errorf("creating %s: %w", staging, err)
	}
	// The metadata names the run image as published (its digest), as rebase
	// compares it; its layers ship in the output's compression (their diff
	// IDs, which the metadata names too, do not change).
	published, err := run.Digest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading run image %s: %w", runRef, err)
	}
	run, err = image.Recompressed(run, e.compression, e.blobs)
	if err != nil {
		return nil, nil, fmt.Errorf("recompressing run image %s: %w", runRef, err)
	}
	exported, md, err := e.runImage(run, runRef, published)
	if err != nil {
		return nil, nil, err
	}
	env, err := runEnv(run)
	if err != nil {
		return nil, nil, err
	}
	a := &appender{exporter: e, staging: staging, exported: exported}
	bps, err := a.addBuildpacks(res, &md, env)
	if err != nil {
		return nil, nil, err
	}
	if sbomDir, ok, err := e.collectSBOM(res); err != nil {
		return nil, nil, err
	} else if ok {
		sha, err := a.add(LayerID{Kind: SBOMLayer}, sbomDir, filepath.Join(LayersDir, "sbom"))
		if err != nil {
			return nil, nil, err
		}
		md.SBOM = &cnbmeta.LayerRef{SHA: sha}
	}
	sha, err := a.add(LayerID{Kind: AppLayer}, e.dirs.host.app, AppDir)
	if err != nil {
		return nil, nil, err
	}
	md.App = []cnbmeta.LayerRef{{SHA: sha}}

	img, err := mutate.Append(image.OCI(run), a.adds...)
	if err != nil {
		return nil, nil, fmt.Errorf("appending layers to run image %s: %w", runRef, err)
	}
	img, err = e.configure(img, res, env, md, cnbmeta.BuildMetadata{Processes: res.Processes, Buildpacks: bps})
	if err != nil {
		return nil, nil, err
	}
	return img, a.exported, nil
}

// runImage describes the run image's layers and starts the lifecycle
// metadata with it. Their uncompressed sizes are measured once and kept in
// the blob cache by diff ID.
func (e *exporter) runImage(run v1.Image, runRef string, published v1.Hash) ([]ExportedLayer, cnbmeta.LifecycleMetadata, error) {
	var md cnbmeta.LifecycleMetadata
	layers, err := run.Layers()
	if err != nil {
		return nil, md, fmt.Errorf("reading run image %s: %w", runRef, err)
	}
	var exported []ExportedLayer
	for _, l := range layers {
		el, err := e.describe(l, LayerID{Kind: RunImageLayer, RunImage: runRef})
		if err != nil {
			return nil, md, fmt.Errorf("reading run image %s: %w", runRef, err)
		}
		el.Reused = true
		exported = append(exported, el)
	}
	md.RunImage = cnbmeta.RunImage{Reference: published.String(), Image: runRef}
	if n := len(exported); n > 0 {
		md.RunImage.TopLayer = exported[n-1].DiffID.String()
	}
	md.Stack.RunImage.Image = runRef
	return exported, md, nil
}

// describe gives l's digests and sizes; Reused is left false.
func (e *exporter) describe(l v1.Layer, id LayerID) (ExportedLayer, error) {
	el := ExportedLayer{ID: id}
	var err error
	if el.DiffID, err = l.DiffID(); err != nil {
		return el, fmt.Errorf("reading layer diff ID: %w", err)
	}
	if el.Digest, err = l.Digest(); err != nil {
		return el, fmt.Errorf("reading layer %s digest: %w", el.DiffID, err)
	}
	if el.Compressed, err = l.Size(); err != nil {
		return el, fmt.Errorf("reading layer %s size: %w", el.DiffID, err)
	}
	if el.Uncompressed, err = image.UncompressedSize(l, e.blobs); err != nil {
		return el, err
	}
	return el, nil
}

// appender writes the layers the build adds and records them.
type appender struct {
	*exporter
	staging  string
	adds     []mutate.Addendum
	exported []ExportedLayer
}

// add writes dir as the layer id at prefix in the image and returns its diff ID.
func (a *appender) add(id LayerID, dir, prefix string) (string, error) {
	l, err := image.LayerFromDir(dir, image.WithPrefix(prefix), image.WithOwner(a.uid, a.gid),
		image.WithStaging(a.staging), image.WithBlobCache(a.blobs), image.WithCompression(a.compression))
	if err != nil {
		return "", fmt.Errorf("exporting layer %s: %w", id.Key(), err)
	}
	el, err := a.describe(l, id)
	if err != nil {
		return "", fmt.Errorf("exporting layer %s: %w", id.Key(), err)
	}
	el.Reused = a.previous[id.Key()] == el.DiffID.String()
	a.adds = append(a.adds, mutate.Addendum{Layer: l, History: v1.History{
		Created: v1.Time{Time: image.Epoch}, CreatedBy: "distill: " + id.Key(), Comment: "buildpacks",
	}})
	a.exported = append(a.exported, el)
	return el.DiffID.String(), nil
}

// addBuildpacks adds each buildpack's launch layers, records them in md and
// adds their launch env to env.
func (a *appender) addBuildpacks(res *BuildResult, md *cnbmeta.LifecycleMetadata, env buildpack.Env) ([]cnbmeta.BuildpackRef, error) {
	var bps []cnbmeta.BuildpackRef
	for _, bp := range res.Buildpacks {
		info := bp.Desc.Info()
		bps = append(bps, cnbmeta.BuildpackRef{ID: info.ID, Version: info.Version, Homepage: info.Homepage})
		bmd := cnbmeta.BuildpackLayers{Key: info.ID, Version: info.Version, Layers: map[string]cnbmeta.Layer{}}
		esc := buildpack.EscapedID(info.ID)
		for _, l := range bp.Layers {
			if !l.Types.Launch {
				continue
			}
			if _, err := os.Stat(l.Path); err != nil {
				continue // metadata only: nothing to export
			}
			imagePath := filepath.Join(LayersDir, esc, l.Name)
			sha, err := a.add(LayerID{Kind: BuildpackLayer, Buildpack: info.ID, Layer: l.Name}, l.Path, imagePath)
			if err != nil {
				return nil, err
			}
			bmd.Layers[l.Name] = cnbmeta.Layer{SHA: sha, Data: l.Metadata, Launch: true, Build: l.Types.Build, Cache: l.Types.Cache}
			if err := env.AddLayer(l.Path, imagePath, buildpack.PhaseLaunch); err != nil {
				return nil, err
			}
		}
		md.Buildpacks = append(md.Buildpacks, bmd)
	}
	return bps, nil
}

// configure sets the image config: launch env, working dir, user, the
// default process as entrypoint, buildpack labels and the CNB labels.
func (e *exporter) configure(img v1.Image, res *BuildResult, env buildpack.Env, md cnbmeta.LifecycleMetadata, bm cnbmeta.BuildMetadata) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
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
	if bm.Processes == nil {
		bm.Processes = []buildpack.Process{}
	}
	for k, v := range map[string]any{cnbmeta.LabelLifecycleMetadata: md, cnbmeta.LabelBuildMetadata: bm, cnbmeta.LabelProjectMetadata: struct{}{}} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encoding label %s: %w", k, err)
		}
		cfg.Labels[k] = string(b)
	}
	if img, err = mutate.Config(img, cfg); err != nil {
		return nil, fmt.Errorf("setting image config: %w", err)
	}
	return mutate.CreatedAt(img, v1.Time{Time: image.Epoch})
}

// collectSBOM gathers <layers>/<bp>/<layer>.sbom.*.json of launch layers and
// launch.sbom.*.json into the CNB SBOM layout (/layers/sbom/launch/<bp>/...).
func (e *exporter) collectSBOM(res *BuildResult) (string, bool, error) {
	dir := filepath.Join(e.dirs.root, "sbom")
	found := false
	cdxFiles := map[string]string{} // CycloneDX SBOM copied → its name, <buildpack id>[:<layer>]
	for _, bp := range res.Buildpacks {
		id := bp.Desc.Info().ID
		esc := buildpack.EscapedID(id)
		files, err := filepath.Glob(filepath.Join(bp.Dir, "*.sbom.*.json"))
		if err != nil {
			return "", false, err
		}
		for _, f := range files {
			name := filepath.Base(f)
			layer, ext, _ := strings.Cut(name, ".sbom.")
			dst, docName := filepath.Join(dir, "launch", esc, layer, "sbom."+ext), id+":"+layer
			if layer == "launch" {
				dst, docName = filepath.Join(dir, "launch", esc, "sbom."+ext), id
			} else if !isLaunchLayer(bp.Layers, layer) {
				continue
			}
			if ext == "cdx.json" {
				cdxFiles[dst] = docName
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
	if err := addSPDX(cdxFiles); err != nil {
		return "", false, err
	}
	return dir, found, nil
}

// addSPDX writes sbom.spdx.json (SPDX 2.3) beside each CycloneDX SBOM of
// cdxFiles that its buildpack did not give an SPDX form, named as cdxFiles says.
func addSPDX(cdxFiles map[string]string) error {
	for cdxFile, name := range cdxFiles {
		spdxFile := filepath.Join(filepath.Dir(cdxFile), "sbom.spdx.json")
		if _, err := os.Stat(spdxFile); err == nil {
			continue
		}
		if err := sbom.CycloneDXToSPDX(cdxFile, spdxFile, name); err != nil {
			return err
		}
	}
	return nil
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
