// Package inspect reads a built image back: its run image, buildpacks,
// processes, and every layer with its sizes, what put it there (from the CNB
// labels io.buildpacks.lifecycle.metadata and io.buildpacks.build.metadata)
// and the packages its SBOM lists. It works on images from `distill build`
// and from `pack build` (the lifecycle) alike.
package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/cnbmeta"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/sbom"
)

// What put a layer in the image (Layer.Kind).
const (
	KindRunImage     = "run-image"
	KindBuildpack    = "buildpack"
	KindSBOM         = "sbom"
	KindApp          = "app"
	KindLauncher     = "launcher"
	KindConfig       = "config"
	KindProcessTypes = "process-types"
	KindUnknown      = "unknown"
)

// Image is what inspect tells about one image.
type Image struct {
	Name           string      `json:"name"`
	Digest         string      `json:"digest"`
	OS             string      `json:"os"`
	Architecture   string      `json:"architecture"`
	StackID        string      `json:"stackID,omitempty"`
	RunImage       RunImage    `json:"runImage"`
	Buildpacks     []Buildpack `json:"buildpacks"`
	Processes      []Process   `json:"processes"`
	DefaultProcess string      `json:"defaultProcess,omitempty"`
	Layers         []Layer     `json:"layers"`
	// SBOMs are the launch SBOMs a buildpack wrote for the image as a whole
	// (/layers/sbom/launch/<buildpack>/sbom.cdx.json), not for one layer.
	SBOMs        []SBOM `json:"sboms,omitempty"`
	Compressed   int64  `json:"compressed"`
	Uncompressed int64  `json:"uncompressed"`
}

// RunImage is the image the app was built on, as the lifecycle metadata records it.
type RunImage struct {
	Image     string    `json:"image"`
	Reference string    `json:"reference"` // the run image's digest or ID when the app was built (or rebased)
	TopLayer  string    `json:"topLayer"`  // diff ID of its last layer
	Packages  []Package `json:"packages,omitempty"`
}

// Buildpack is one buildpack of the build.
type Buildpack struct {
	ID       string `json:"id"`
	Version  string `json:"version"`
	Homepage string `json:"homepage,omitempty"`
}

// Process is one process type the image can run.
type Process struct {
	Type        string   `json:"type"`
	Command     []string `json:"command"`
	Args        []string `json:"args,omitempty"`
	Direct      bool     `json:"direct"`
	BuildpackID string   `json:"buildpackID,omitempty"`
}

// Layer is one layer of the image, in image order.
type Layer struct {
	DiffID       string    `json:"diffID"`
	Digest       string    `json:"digest"`
	MediaType    string    `json:"mediaType"`
	Compressed   int64     `json:"compressed"`
	Uncompressed int64     `json:"uncompressed"`
	Kind         string    `json:"kind"`
	Buildpack    string    `json:"buildpack,omitempty"` // for KindBuildpack
	Name         string    `json:"name,omitempty"`      // the buildpack's layer name, for KindBuildpack
	Packages     []Package `json:"packages,omitempty"`
}

// Source says what put the layer there: "run image", "distill/go:app",
// "sbom", "app", "launcher".
func (l Layer) Source() string {
	switch l.Kind {
	case KindRunImage:
		return "run image"
	case KindBuildpack:
		return l.Buildpack + ":" + l.Name
	}
	return l.Kind
}

// Package is one component an SBOM lists.
type Package = sbom.Package

// SBOM is a buildpack's image-wide launch SBOM.
type SBOM struct {
	Buildpack string    `json:"buildpack"`
	Packages  []Package `json:"packages"`
}

// Options configure Read.
type Options struct {
	// SizeCache is a directory where uncompressed layer sizes are kept by
	// diff ID, so a second inspect decompresses nothing ("" counts every time).
	SizeCache string
	// Image are options for resolving a reference (keychain, daemon client).
	Image []image.Option
}

// Resolve finds ref — oci:DIR, a tag in the Docker API (podman, docker), or
// a registry reference — and inspects it.
func Resolve(ctx context.Context, ref string, o Options) (*Image, error) {
	img, err := ResolveImage(ctx, ref, o)
	if err != nil {
		return nil, err
	}
	return Read(ctx, ref, img, o)
}

// ResolveImage finds ref as Resolve does and returns the image unread.
func ResolveImage(ctx context.Context, ref string, o Options) (v1.Image, error) {
	opts := append([]image.Option{image.WithSources(image.FromDaemon, image.FromRegistry)}, o.Image...)
	img, err := image.Resolve(ctx, ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	return img, nil
}

// Read inspects img, named name. It reads the config and manifest, counts
// each layer's uncompressed size (decompressing those whose size is not
// known) and reads the SBOM layer. An image without
// io.buildpacks.lifecycle.metadata is refused: it was not built by buildpacks.
func Read(ctx context.Context, name string, img v1.Image, o Options) (*Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", name, err)
	}
	labels := cf.Config.Labels
	var md cnbmeta.LifecycleMetadata
	if ok, err := decodeLabel(labels, cnbmeta.LabelLifecycleMetadata, &md); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	} else if !ok {
		return nil, fmt.Errorf("%s has no %s label: it was not built by a CNB platform (distill build, pack build)", name, cnbmeta.LabelLifecycleMetadata)
	}
	var bm cnbmeta.BuildMetadata
	if _, err := decodeLabel(labels, cnbmeta.LabelBuildMetadata, &bm); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing the digest of %s: %w", name, err)
	}
	out := &Image{
		Name: name, Digest: d.String(), OS: cf.OS, Architecture: cf.Architecture, StackID: labels[cnbmeta.LabelStackID],
		RunImage:   RunImage{Image: md.RunImage.Image, Reference: md.RunImage.Reference, TopLayer: md.RunImage.TopLayer},
		Buildpacks: []Buildpack{},
	}
	for _, b := range bm.Buildpacks {
		out.Buildpacks = append(out.Buildpacks, Buildpack(b))
	}
	if out.RunImage.Image == "" {
		out.RunImage.Image = md.Stack.RunImage.Image
	}
	out.Processes = processes(bm.Processes)
	out.DefaultProcess = defaultProcess(cf.Config, bm.Processes, out.Processes)
	if _, err := decodeLabel(labels, cnbmeta.LabelStackPackages, &out.RunImage.Packages); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := out.readLayers(ctx, img, md, o); err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", name, err)
	}
	return out, nil
}

func processes(in []buildpack.Process) []Process {
	out := []Process{}
	for _, p := range in {
		out = append(out, Process{Type: p.Type, Command: p.Command, Args: p.Args, Direct: p.IsDirect(), BuildpackID: p.BuildpackID})
	}
	return out
}

// defaultProcess is the process the image runs by default: the lifecycle's
// launcher entrypoint /cnb/process/<type>, else the one marked default, else
// the one whose command is the entrypoint (distill's direct processes), else
// "web", else the only one.
func defaultProcess(cfg v1.Config, raw []buildpack.Process, procs []Process) string {
	if len(cfg.Entrypoint) > 0 {
		if t, ok := strings.CutPrefix(cfg.Entrypoint[0], "/cnb/process/"); ok {
			return t
		}
	}
	for _, p := range raw {
		if p.Default {
			return p.Type
		}
	}
	for _, p := range procs {
		if len(p.Command) > 0 && slices.Equal(p.Command, cfg.Entrypoint) {
			return p.Type
		}
	}
	for _, p := range procs {
		if p.Type == "web" {
			return p.Type
		}
	}
	if len(procs) == 1 {
		return procs[0].Type
	}
	return ""
}

// readLayers describes every layer: sizes, what put it there (by diff ID in
// the lifecycle metadata) and, from the SBOM layer, its packages.
func (out *Image) readLayers(ctx context.Context, img v1.Image, md cnbmeta.LifecycleMetadata, o Options) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("reading layers: %w", err)
	}
	owners := layerOwners(md)
	inRun := md.RunImage.TopLayer != ""
	var sbomLayer v1.Layer
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		desc, err := describe(l, o.SizeCache)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		switch {
		case inRun:
			desc.Kind = KindRunImage
			inRun = desc.DiffID != md.RunImage.TopLayer
		case owners[desc.DiffID].Kind != "":
			own := owners[desc.DiffID]
			desc.Kind, desc.Buildpack, desc.Name = own.Kind, own.Buildpack, own.Name
		default:
			desc.Kind = KindUnknown
		}
		if desc.Kind == KindSBOM {
			sbomLayer = l
		}
		out.Layers = append(out.Layers, desc)
		out.Compressed += desc.Compressed
		out.Uncompressed += desc.Uncompressed
	}
	if inRun {
		return fmt.Errorf("the run image's top layer %s (%s runImage.topLayer) is not in the image", md.RunImage.TopLayer, cnbmeta.LabelLifecycleMetadata)
	}
	if sbomLayer == nil {
		return nil
	}
	return out.readSBOMs(ctx, sbomLayer)
}

// layerOwners maps the diff IDs the lifecycle metadata names to their owners.
func layerOwners(md cnbmeta.LifecycleMetadata) map[string]Layer {
	owners := map[string]Layer{}
	for _, bp := range md.Buildpacks {
		for name, l := range bp.Layers {
			owners[l.SHA] = Layer{Kind: KindBuildpack, Buildpack: bp.Key, Name: name}
		}
	}
	for _, a := range md.App {
		owners[a.SHA] = Layer{Kind: KindApp}
	}
	if md.SBOM != nil {
		owners[md.SBOM.SHA] = Layer{Kind: KindSBOM}
	}
	for kind, ref := range map[string]*cnbmeta.LayerRef{KindLauncher: md.Launcher, KindConfig: md.Config, KindProcessTypes: md.ProcessTypes} {
		if ref != nil && ref.SHA != "" {
			owners[ref.SHA] = Layer{Kind: kind}
		}
	}
	delete(owners, "")
	return owners
}

func describe(l v1.Layer, sizeCache string) (Layer, error) {
	var desc Layer
	diffID, err := l.DiffID()
	if err != nil {
		return desc, fmt.Errorf("reading the diff ID: %w", err)
	}
	digest, err := l.Digest()
	if err != nil {
		return desc, fmt.Errorf("reading the digest of %s: %w", diffID, err)
	}
	mt, err := l.MediaType()
	if err != nil {
		return desc, fmt.Errorf("reading the media type of %s: %w", diffID, err)
	}
	desc = Layer{DiffID: diffID.String(), Digest: digest.String(), MediaType: string(mt)}
	if desc.Compressed, err = l.Size(); err != nil {
		return desc, fmt.Errorf("reading the size of %s: %w", diffID, err)
	}
	if desc.Uncompressed, err = image.UncompressedSize(l, sizeCache); err != nil {
		return desc, err
	}
	return desc, nil
}
