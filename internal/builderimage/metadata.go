package builderimage

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/BurntSushi/toml"

	"github.com/distill-build/distill/internal/archive"
	"github.com/distill-build/distill/internal/buildpack"
)

// Label keys of a builder image, as pack and the lifecycle read them.
const (
	LabelBuilderMetadata     = "io.buildpacks.builder.metadata"
	LabelBuildpackLayers     = "io.buildpacks.buildpack.layers"
	LabelBuildpackOrder      = "io.buildpacks.buildpack.order"
	LabelExtensionLayers     = "io.buildpacks.extension.layers"
	LabelOrderExtensions     = "io.buildpacks.buildpack.order-extensions"
	LabelStackMixins         = "io.buildpacks.stack.mixins"
	LabelBuildpackageMeta    = "io.buildpacks.buildpackage.metadata"
	cnbBuildpacksDir         = "/cnb/buildpacks"
	cnbExtensionsDir         = "/cnb/extensions"
	cnbLifecycleDir          = "/cnb/lifecycle"
	cnbOrderPath             = "/cnb/order.toml"
	cnbRunPath               = "/cnb/run.toml"
	cnbStackPath             = "/cnb/stack.toml"
	cnbBuildConfigEnvDir     = "/cnb/build-config/env"
	createdByName            = "distill"
	defaultLifecycleTarball  = ".cache/tools/lifecycle.tgz"
	lifecycleDescriptorInTar = "lifecycle.toml"
)

// BuilderMetadata is the io.buildpacks.builder.metadata label (pack's shape).
type BuilderMetadata struct {
	Description string             `json:"description"`
	Buildpacks  []ModuleInfo       `json:"buildpacks"`
	Extensions  []ModuleInfo       `json:"extensions,omitempty"`
	Stack       StackMetadata      `json:"stack"`
	Lifecycle   LifecycleMetadata  `json:"lifecycle"`
	CreatedBy   CreatorMetadata    `json:"createdBy"`
	RunImages   []RunImageMetadata `json:"images"`
}

// ModuleInfo describes a buildpack or extension in the builder metadata.
type ModuleInfo struct {
	ID          string    `json:"id"`
	Name        string    `json:"name,omitempty"`
	Version     string    `json:"version"`
	Description string    `json:"description,omitempty"`
	Homepage    string    `json:"homepage,omitempty"`
	Keywords    []string  `json:"keywords,omitempty"`
	Licenses    []License `json:"licenses,omitempty"`
}

// License is a [[buildpack.licenses]] entry.
type License struct {
	Type string `json:"type,omitempty" toml:"type"`
	URI  string `json:"uri,omitempty" toml:"uri"`
}

// StackMetadata is the stack section of the builder metadata (stack-era platforms).
type StackMetadata struct {
	RunImage RunImageMetadata `json:"runImage"`
}

// RunImageMetadata names a run image and its mirrors.
type RunImageMetadata struct {
	Image   string   `json:"image" toml:"image"`
	Mirrors []string `json:"mirrors,omitempty" toml:"mirrors,omitempty"`
}

// CreatorMetadata says which tool wrote the builder.
type CreatorMetadata struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// LifecycleMetadata is the lifecycle section of the builder metadata.
type LifecycleMetadata struct {
	Version string        `json:"version"`
	API     LifecycleAPI  `json:"api"`
	APIs    LifecycleAPIs `json:"apis"`
}

// LifecycleAPI is the RFC-0011 minimum API pair.
type LifecycleAPI struct {
	Buildpack string `json:"buildpack" toml:"buildpack"`
	Platform  string `json:"platform" toml:"platform"`
}

// LifecycleAPIs lists the supported and deprecated APIs.
type LifecycleAPIs struct {
	Buildpack APISet `json:"buildpack" toml:"buildpack"`
	Platform  APISet `json:"platform" toml:"platform"`
}

// APISet is a supported/deprecated API list.
type APISet struct {
	Deprecated []string `json:"deprecated" toml:"deprecated"`
	Supported  []string `json:"supported" toml:"supported"`
}

// ModuleLayers is the io.buildpacks.buildpack.layers (or extension.layers)
// label: id → version → layer info.
type ModuleLayers map[string]map[string]ModuleLayerInfo

// ModuleLayerInfo describes the layer holding one buildpack or extension.
type ModuleLayerInfo struct {
	API         string             `json:"api"`
	Stacks      []StackRef         `json:"stacks,omitempty"`
	Targets     []buildpack.Target `json:"targets,omitempty"`
	Order       buildpack.Order    `json:"order,omitempty"`
	LayerDiffID string             `json:"layerDiffID"`
	Homepage    string             `json:"homepage,omitempty"`
	Name        string             `json:"name,omitempty"`
}

// StackRef is a [[stacks]] entry of a buildpack, as the layers label shows it.
type StackRef struct {
	ID     string   `json:"id"`
	Mixins []string `json:"mixins,omitempty"`
}

// moduleExtras are the descriptor fields the builder metadata shows but the
// platform does not need.
type moduleExtras struct {
	Buildpack moduleExtraInfo `toml:"buildpack"`
	Extension moduleExtraInfo `toml:"extension"`
}

type moduleExtraInfo struct {
	Description string    `toml:"description"`
	Keywords    []string  `toml:"keywords"`
	Licenses    []License `toml:"licenses"`
}

// moduleInfo is the metadata entry of a buildpack or extension.
func moduleInfo(d *buildpack.Descriptor) ModuleInfo {
	info := d.Info()
	m := ModuleInfo{ID: info.ID, Name: info.Name, Version: info.Version, Homepage: info.Homepage}
	file := "buildpack.toml"
	if d.IsExtension() {
		file = "extension.toml"
	}
	var x moduleExtras
	if _, err := toml.DecodeFile(path.Join(d.Dir, file), &x); err == nil {
		e := x.Buildpack
		if d.IsExtension() {
			e = x.Extension
		}
		m.Description, m.Keywords, m.Licenses = e.Description, e.Keywords, e.Licenses
	}
	return m
}

// Lifecycle is a lifecycle tarball (the `[lifecycle] uri` of builder.toml):
// lifecycle.toml at its root and lifecycle/ with the binaries.
type Lifecycle struct {
	Path       string
	Descriptor struct {
		API       LifecycleAPI  `toml:"api"`
		APIs      LifecycleAPIs `toml:"apis"`
		Lifecycle struct {
			Version string `toml:"version"`
		} `toml:"lifecycle"`
	}
}

// ReadLifecycle opens a lifecycle tarball (.tgz or plain .tar) and reads its descriptor.
func ReadLifecycle(p string) (*Lifecycle, error) {
	l := &Lifecycle{Path: p}
	found := false
	err := l.walk(context.Background(), func(name string, _ *tar.Header, r io.Reader) error {
		if name != lifecycleDescriptorInTar {
			return nil
		}
		found = true
		if _, err := toml.NewDecoder(r).Decode(&l.Descriptor); err != nil {
			return fmt.Errorf("reading lifecycle.toml: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lifecycle %s: %w", p, err)
	}
	if !found || l.Descriptor.Lifecycle.Version == "" {
		return nil, fmt.Errorf("lifecycle %s: no lifecycle.toml with [lifecycle] version at its root", p)
	}
	return l, nil
}

// walk calls f with the clean name, header and content of every entry of
// the lifecycle tarball (gzip or not), through archive.Walk: a name with ".."
// or an absolute one fails, naming the tarball and the entry.
func (l *Lifecycle) walk(ctx context.Context, f func(name string, hdr *tar.Header, r io.Reader) error) error {
	file, err := os.Open(l.Path)
	if err != nil {
		return err
	}
	defer file.Close()
	return archive.Walk(ctx, l.Path, file, f)
}

// Metadata is the lifecycle section of the builder metadata label.
func (l *Lifecycle) Metadata() LifecycleMetadata {
	d := l.Descriptor
	apis := d.APIs
	for _, s := range []*APISet{&apis.Buildpack, &apis.Platform} {
		if s.Deprecated == nil {
			s.Deprecated = []string{}
		}
		if s.Supported == nil {
			s.Supported = []string{}
		}
	}
	return LifecycleMetadata{Version: d.Lifecycle.Version, API: d.API, APIs: apis}
}
