package lifecycle

import (
	"errors"
	"fmt"
	"strings"

	"github.com/distill-build/distill/internal/cnbmeta"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/internal/image"
)

// Labels the rebaser reads besides the lifecycle metadata.
const (
	LabelRebasable = "io.buildpacks.rebasable"
)

// runImageLabelPrefixes are the labels that describe the run image: a rebase
// replaces the app's with the new run image's, as the lifecycle does
// (io.buildpacks.stack.*, io.buildpacks.base.*), and distill's stack labels
// (its package list, its definition digest) go with them.
var runImageLabelPrefixes = []string{"io.buildpacks.stack.", "io.buildpacks.base.", "io.distill.stack."}

// ErrIncompatibleRunImage is matched by every refusal to rebase onto a run
// image the app cannot run on.
var ErrIncompatibleRunImage = errors.New("incompatible run image")

// RebaseOptions configure Rebase.
type RebaseOptions struct {
	// RunImageRef names the new run image; it is recorded in the metadata.
	RunImageRef string
	// RunImageDigest is the new run image's digest as published, recorded as
	// runImage.reference when the image passed to Rebase is a recompressed
	// copy of it (same diff IDs); zero for the image's own digest.
	RunImageDigest v1.Hash
	// Force rebases onto a run image other than the one the app names (its
	// metadata then names the new one), and an image marked
	// io.buildpacks.rebasable=false, as pack rebase --force does.
	Force bool
}

// Rebased describes one rebase.
type Rebased struct {
	OldRunImage, NewRunImage string // the run image references the metadata named before and after
	OldTopLayer, NewTopLayer string
	// Replaced and Kept count the run image layers swapped out and the app's layers kept.
	Replaced, Kept int
	// Current is true when the app already is on run (same top layer and
	// digest): Rebase then returns the app image unchanged.
	Current bool
}

// Rebase swaps the run image under app for run, as the CNB lifecycle's
// rebaser does: the layers up to runImage.topLayer (a diff ID in
// io.buildpacks.lifecycle.metadata) are the old run image and give way to
// run's; the layers above are kept as they are (same blobs). The config is
// app's with run's os, architecture and variant; the run image's labels
// (io.buildpacks.stack.*, io.buildpacks.base.*) are run's; the metadata's
// runImage.topLayer and reference name run. It refuses (ErrIncompatibleRunImage)
// a run image of another stack ID, OS, architecture or distribution, one
// missing the stack label the app has, and an app without lifecycle metadata.
func Rebase(app, run v1.Image, o RebaseOptions) (v1.Image, Rebased, error) {
	var res Rebased
	appCf, err := app.ConfigFile()
	if err != nil {
		return nil, res, fmt.Errorf("reading the app image's config: %w", err)
	}
	runCf, err := run.ConfigFile()
	if err != nil {
		return nil, res, fmt.Errorf("reading run image %s's config: %w", o.RunImageRef, err)
	}
	md, err := readRebaseMetadata(appCf.Config.Labels)
	if err != nil {
		return nil, res, err
	}
	if err := checkRebasable(appCf, runCf, o); err != nil {
		return nil, res, err
	}
	res.OldRunImage, res.OldTopLayer = md.runImageName(), md.topLayer()
	if !o.Force && res.OldRunImage != "" && !sameImageName(res.OldRunImage, o.RunImageRef) {
		return nil, res, fmt.Errorf("%w: the app was built on %s, not %s; pass --force to rebase onto it anyway (the image then names %s as its run image)",
			ErrIncompatibleRunImage, res.OldRunImage, o.RunImageRef, o.RunImageRef)
	}
	current, err := md.isOn(run, runCf, o)
	if err != nil {
		return nil, res, err
	}
	if current {
		res.NewRunImage, res.NewTopLayer, res.Current = res.OldRunImage, res.OldTopLayer, true
		return app, res, nil
	}
	top := indexOf(appCf.RootFS.DiffIDs, md.topLayer())
	if top < 0 {
		return nil, res, fmt.Errorf("the app image's run image top layer %s (%s runImage.topLayer) is not one of its layers", md.topLayer(), cnbmeta.LabelLifecycleMetadata)
	}
	img, err := restack(app, run, appCf, runCf, top)
	if err != nil {
		return nil, res, err
	}
	if err := md.point(run, runCf, o); err != nil {
		return nil, res, err
	}
	res.NewRunImage, res.NewTopLayer = md.runImageName(), md.topLayer()
	res.Replaced, res.Kept = top+1, len(appCf.RootFS.DiffIDs)-top-1
	img, err = rebasedConfig(img, appCf, runCf, md)
	if err != nil {
		return nil, res, err
	}
	return img, res, nil
}

// restack is run's layers, then app's layers above index top, each with its
// history entry, on an empty image of app's manifest media type.
func restack(app, run v1.Image, appCf, runCf *v1.ConfigFile, top int) (v1.Image, error) {
	runLayers, err := run.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading the new run image's layers: %w", err)
	}
	appLayers, err := app.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading the app image's layers: %w", err)
	}
	runHist, appHist := layerHistory(runCf, len(runLayers)), layerHistory(appCf, len(appLayers))
	mt, err := app.MediaType()
	if err != nil {
		return nil, fmt.Errorf("reading the app image's media type: %w", err)
	}
	docker := mt == types.DockerManifestSchema2
	var adds []mutate.Addendum
	for i, l := range runLayers {
		adds = append(adds, mutate.Addendum{Layer: gzipTyped(l, docker), History: runHist[i]})
	}
	for i := top + 1; i < len(appLayers); i++ {
		adds = append(adds, mutate.Addendum{Layer: gzipTyped(appLayers[i], docker), History: appHist[i]})
	}
	base := empty.Image // Docker schema 2, as pack publishes through a daemon
	if !docker {
		base = image.OCI(base)
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, fmt.Errorf("stacking the app's layers on the new run image: %w", err)
	}
	return img, nil
}

// gzipTyped gives a gzip layer the media type of its manifest's family
// (Docker schema 2 or OCI), so a run image published as OCI can carry an app
// pushed as Docker schema 2 and the other way round: runtimes refuse a
// manifest mixing them. The blob and digest stay.
func gzipTyped(l v1.Layer, docker bool) v1.Layer {
	mt, err := l.MediaType()
	if err != nil {
		return l
	}
	switch {
	case docker && mt == types.OCILayer:
		return typedLayer{Layer: l, mediaType: types.DockerLayer}
	case !docker && mt == types.DockerLayer:
		return typedLayer{Layer: l, mediaType: types.OCILayer}
	}
	return l
}

type typedLayer struct {
	v1.Layer
	mediaType types.MediaType
}

func (l typedLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// layerHistory is the history entry of each of n layers (empty-layer entries
// skipped; a missing entry is empty but for its epoch timestamp).
func layerHistory(cf *v1.ConfigFile, n int) []v1.History {
	out := make([]v1.History, 0, n)
	for _, h := range cf.History {
		if !h.EmptyLayer && len(out) < n {
			out = append(out, h)
		}
	}
	for len(out) < n {
		out = append(out, v1.History{Created: v1.Time{Time: image.Epoch}})
	}
	return out
}

// rebasedConfig gives img app's config with run's platform and run image
// labels, and the updated lifecycle metadata.
func rebasedConfig(img v1.Image, appCf, runCf *v1.ConfigFile, md *rebaseMetadata) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the rebased image's config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Config = *appCf.Config.DeepCopy()
	cf.Created, cf.Author, cf.Container, cf.DockerVersion = appCf.Created, appCf.Author, appCf.Container, appCf.DockerVersion
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion, cf.OSFeatures = runCf.OS, runCf.Architecture, runCf.Variant, runCf.OSVersion, runCf.OSFeatures
	labels := map[string]string{}
	for k, v := range cf.Config.Labels {
		if !isRunImageLabel(k) {
			labels[k] = v
		}
	}
	for k, v := range runCf.Config.Labels {
		if isRunImageLabel(k) {
			labels[k] = v
		}
	}
	raw, err := md.encode()
	if err != nil {
		return nil, err
	}
	labels[cnbmeta.LabelLifecycleMetadata] = raw
	cf.Config.Labels = labels
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting the rebased image's config: %w", err)
	}
	return out, nil
}

func isRunImageLabel(k string) bool {
	for _, p := range runImageLabelPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// checkRebasable refuses a run image the app cannot run on: another stack
// ID, OS, architecture, variant or distribution, or no stack ID where the app
// has one; and an app marked not rebasable, without Force.
func checkRebasable(app, run *v1.ConfigFile, o RebaseOptions) error {
	if app.Config.Labels[LabelRebasable] == "false" && !o.Force {
		return fmt.Errorf("the app image is marked %s=false; pass --force to rebase it anyway", LabelRebasable)
	}
	appStack, runStack := app.Config.Labels[cnbmeta.LabelStackID], run.Config.Labels[cnbmeta.LabelStackID]
	switch {
	case appStack != "" && runStack == "":
		return fmt.Errorf("%w: run image %s has no %s label (the app's stack is %s)", ErrIncompatibleRunImage, o.RunImageRef, cnbmeta.LabelStackID, appStack)
	case appStack != runStack:
		return fmt.Errorf("%w: run image %s is of stack %q, the app of stack %q (%s)", ErrIncompatibleRunImage, o.RunImageRef, runStack, appStack, cnbmeta.LabelStackID)
	}
	if app.OS != run.OS || app.Architecture != run.Architecture || (run.Variant != "" && app.Variant != "" && run.Variant != app.Variant) {
		return fmt.Errorf("%w: run image %s is for %s, the app for %s", ErrIncompatibleRunImage, o.RunImageRef, platformOf(run), platformOf(app))
	}
	for _, k := range []string{cnbmeta.LabelDistroName, cnbmeta.LabelDistroVersion} {
		if want, got := app.Config.Labels[k], run.Config.Labels[k]; got != "" && got != want {
			return fmt.Errorf("%w: run image %s has %s=%q, the app %q", ErrIncompatibleRunImage, o.RunImageRef, k, got, want)
		}
	}
	return nil
}

func platformOf(cf *v1.ConfigFile) string {
	p := cf.OS + "/" + cf.Architecture
	if cf.Variant != "" {
		p += "/" + cf.Variant
	}
	return p
}

func indexOf(ids []v1.Hash, id string) int {
	for i, h := range ids {
		if h.String() == id {
			return i
		}
	}
	return -1
}

// sameImageName reports whether two references name the same repository
// and tag ("distill/run:static" and its fully qualified form).
func sameImageName(a, b string) bool {
	ra, errA := name.ParseReference(a)
	rb, errB := name.ParseReference(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return ra.Name() == rb.Name()
}
