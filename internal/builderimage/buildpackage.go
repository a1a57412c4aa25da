package builderimage

import (
	"encoding/json"
	"fmt"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/image"
)

// BuildpackageMetadata is the io.buildpacks.buildpackage.metadata label.
type BuildpackageMetadata struct {
	ID       string     `json:"id"`
	Name     string     `json:"name,omitempty"`
	Version  string     `json:"version"`
	Homepage string     `json:"homepage,omitempty"`
	Stacks   []StackRef `json:"stacks,omitempty"`
}

// Package makes a buildpackage of a prepared buildpack (or extension): an
// image of one layer with the module at /cnb/buildpacks/<id>/<version>/ (or
// /cnb/extensions/...), labelled as `pack buildpack package` labels it, so
// pack builder create and pack build --buildpack take it.
func Package(d *buildpack.Descriptor, staging string) (v1.Image, error) {
	l, err := ModuleLayer(d, staging)
	if err != nil {
		return nil, err
	}
	diff, err := l.DiffID()
	if err != nil {
		return nil, err
	}
	lw := &layers{staging: staging}
	lw.addLayer(l, "distill: "+d.Kind()+" "+d.Key())
	img, err := mutate.Append(image.OCI(empty.Image), lw.adds...)
	if err != nil {
		return nil, err
	}
	info := d.Info()
	layersLabel := ModuleLayers{info.ID: {info.Version: {
		API: d.API, Stacks: jsonStacks(d.Stacks), Targets: d.Targets, Order: d.Order,
		LayerDiffID: diff.String(), Homepage: info.Homepage, Name: info.Name,
	}}}
	md := BuildpackageMetadata{ID: info.ID, Name: info.Name, Version: info.Version, Homepage: info.Homepage, Stacks: jsonStacks(d.Stacks)}
	layersKey, mdKey := LabelBuildpackLayers, LabelBuildpackageMeta
	if d.IsExtension() {
		layersKey, mdKey = LabelExtensionLayers, "io.buildpacks.extension.metadata"
	}
	labels := map[string]string{}
	for k, v := range map[string]any{layersKey: layersLabel, mdKey: md} {
		s, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		labels[k] = string(s)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Labels = labels
	cf.Created = v1.Time{Time: image.Epoch}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("buildpackage %s: %w", d.Key(), err)
	}
	return img, nil
}
