// Package cnbmeta owns the shapes of the CNB labels on an app image, as the
// CNB lifecycle's exporter writes them (buildpacks/spec platform.md,
// "Labels"): io.buildpacks.lifecycle.metadata (which layer is whose, the run
// image) and io.buildpacks.build.metadata (processes, buildpacks). distill's
// exporter writes them and distill inspect reads them, from distill's images
// and pack's alike: fields only pack writes (config, launcher, process-types
// layers) are optional, and process commands of older Platform APIs (a
// string) decode through buildpack.Command.
package cnbmeta

import "github.com/distill-build/distill/internal/buildpack"

// Label names. LabelStackID and the distro labels are on stack images,
// builders and app images alike (buildpacks/spec platform.md, "Target
// data"); LabelStackPackages is distill's list of a stack image's Debian
// packages, which app images inherit from their run image.
const (
	LabelLifecycleMetadata = "io.buildpacks.lifecycle.metadata"
	LabelBuildMetadata     = "io.buildpacks.build.metadata"
	LabelProjectMetadata   = "io.buildpacks.project.metadata"
	LabelStackID           = "io.buildpacks.stack.id"
	LabelDistroName        = "io.buildpacks.base.distro.name"
	LabelDistroVersion     = "io.buildpacks.base.distro.version"
	LabelStackPackages     = "io.distill.stack.packages"
)

// LifecycleMetadata is io.buildpacks.lifecycle.metadata. Layers are named by
// diff ID ("sha256:…").
type LifecycleMetadata struct {
	App          []LayerRef        `json:"app"`
	Config       *LayerRef         `json:"config,omitempty"`
	Launcher     *LayerRef         `json:"launcher,omitempty"`
	ProcessTypes *LayerRef         `json:"process-types,omitempty"`
	SBOM         *LayerRef         `json:"sbom,omitempty"`
	Buildpacks   []BuildpackLayers `json:"buildpacks"`
	RunImage     RunImage          `json:"runImage"`
	Stack        Stack             `json:"stack"`
}

// LayerRef names one layer by diff ID.
type LayerRef struct {
	SHA string `json:"sha"`
}

// BuildpackLayers are one buildpack's launch layers, by layer name.
type BuildpackLayers struct {
	Key     string           `json:"key"`
	Version string           `json:"version"`
	Layers  map[string]Layer `json:"layers"`
}

// Layer is one buildpack layer: its diff ID, its metadata from <layer>.toml
// and its types.
type Layer struct {
	SHA    string         `json:"sha"`
	Data   map[string]any `json:"data,omitempty"`
	Launch bool           `json:"launch"`
	Build  bool           `json:"build"`
	Cache  bool           `json:"cache"`
}

// RunImage is the run image the app sits on: the diff ID of its top layer
// (where rebase cuts), its digest reference and its name.
type RunImage struct {
	TopLayer  string `json:"topLayer"`
	Reference string `json:"reference"`
	Image     string `json:"image,omitempty"`
}

// Stack is the stack-era record of the run image (Platform API < 0.12).
type Stack struct {
	RunImage struct {
		Image string `json:"image"`
	} `json:"runImage"`
}

// BuildMetadata is io.buildpacks.build.metadata.
type BuildMetadata struct {
	Processes  []buildpack.Process `json:"processes"`
	Buildpacks []BuildpackRef      `json:"buildpacks"`
	Launcher   struct{}            `json:"launcher"`
}

// BuildpackRef is a buildpack that took part in the build.
type BuildpackRef struct {
	ID       string `json:"id"`
	Version  string `json:"version"`
	Homepage string `json:"homepage,omitempty"`
}
