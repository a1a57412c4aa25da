package lifecycle

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/distill-build/distill/internal/cnbmeta"

	"github.com/google/go-containerregistry/pkg/name"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// rebaseMetadata is io.buildpacks.lifecycle.metadata with every field kept
// (pack's images carry more than distill's), its runImage and stack decoded.
type rebaseMetadata struct {
	raw      map[string]json.RawMessage
	RunImage map[string]any
	Stack    map[string]any
}

// readRebaseMetadata decodes the app's lifecycle metadata; an image without
// it, or without runImage.topLayer, cannot be rebased.
func readRebaseMetadata(labels map[string]string) (*rebaseMetadata, error) {
	s, ok := labels[cnbmeta.LabelLifecycleMetadata]
	if !ok {
		return nil, fmt.Errorf("the app image has no %s label: it was not built by buildpacks (distill build, pack build), so its run image layers are unknown; rebuild it instead", cnbmeta.LabelLifecycleMetadata)
	}
	md := &rebaseMetadata{}
	if err := json.Unmarshal([]byte(s), &md.raw); err != nil {
		return nil, fmt.Errorf("decoding the app image's %s label: %w", cnbmeta.LabelLifecycleMetadata, err)
	}
	for key, dst := range map[string]*map[string]any{"runImage": &md.RunImage, "stack": &md.Stack} {
		if r, ok := md.raw[key]; ok {
			if err := json.Unmarshal(r, dst); err != nil {
				return nil, fmt.Errorf("decoding %s of the app image's %s label: %w", key, cnbmeta.LabelLifecycleMetadata, err)
			}
		}
	}
	if md.RunImage == nil || md.topLayer() == "" {
		return nil, fmt.Errorf("the app image's %s label has no runImage.topLayer: the run image layers are unknown; rebuild it instead", cnbmeta.LabelLifecycleMetadata)
	}
	return md, nil
}

func (md *rebaseMetadata) topLayer() string {
	s, _ := md.RunImage["topLayer"].(string)
	return s
}

// RecordedRunImage is the run image reference the app's lifecycle metadata
// names (runImage.image, else stack.runImage.image).
func RecordedRunImage(app v1.Image) (string, error) {
	cf, err := app.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("reading the app image's config: %w", err)
	}
	md, err := readRebaseMetadata(cf.Config.Labels)
	if err != nil {
		return "", err
	}
	return md.runImageName(), nil
}

func (md *rebaseMetadata) runImageName() string {
	if s, _ := md.RunImage["image"].(string); s != "" {
		return s
	}
	if ri, ok := md.Stack["runImage"].(map[string]any); ok {
		s, _ := ri["image"].(string)
		return s
	}
	return ""
}

// point makes the metadata name run: its top layer and digest (in the form
// the metadata had: a bare digest as distill writes it, or <repository>@<digest>
// as the lifecycle does); with Force, its reference too (runImage.image,
// stack.runImage.image), mirrors dropped.
func (md *rebaseMetadata) point(run v1.Image, runCf *v1.ConfigFile, o RebaseOptions) error {
	ids := runCf.RootFS.DiffIDs
	if len(ids) == 0 {
		return fmt.Errorf("%w: run image %s has no layers", ErrIncompatibleRunImage, o.RunImageRef)
	}
	d, err := o.runDigest(run)
	if err != nil {
		return err
	}
	old, _ := md.RunImage["reference"].(string)
	md.RunImage["topLayer"] = ids[len(ids)-1].String()
	md.RunImage["reference"] = d.String()
	if strings.Contains(old, "@") {
		if r, err := name.ParseReference(o.RunImageRef); err == nil {
			md.RunImage["reference"] = r.Context().Digest(d.String()).String()
		}
	}
	if !o.Force || sameImageName(md.runImageName(), o.RunImageRef) {
		return nil
	}
	md.RunImage["image"] = o.RunImageRef
	delete(md.RunImage, "mirrors")
	md.Stack = map[string]any{"runImage": map[string]any{"image": o.RunImageRef}}
	return nil
}

// runDigest is RunImageDigest, else run's digest.
func (o RebaseOptions) runDigest(run v1.Image) (v1.Hash, error) {
	if o.RunImageDigest != (v1.Hash{}) {
		return o.RunImageDigest, nil
	}
	d, err := run.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("computing the digest of run image %s: %w", o.RunImageRef, err)
	}
	return d, nil
}

// isOn reports whether the metadata already names run: same top layer,
// same digest, same name.
func (md *rebaseMetadata) isOn(run v1.Image, runCf *v1.ConfigFile, o RebaseOptions) (bool, error) {
	ids := runCf.RootFS.DiffIDs
	if len(ids) == 0 || ids[len(ids)-1].String() != md.topLayer() || !sameImageName(md.runImageName(), o.RunImageRef) {
		return false, nil
	}
	d, err := o.runDigest(run)
	if err != nil {
		return false, err
	}
	reference, _ := md.RunImage["reference"].(string)
	if _, digest, ok := strings.Cut(reference, "@"); ok {
		reference = digest
	}
	return reference == d.String(), nil
}

// encode is the label's JSON with runImage and stack replaced.
func (md *rebaseMetadata) encode() (string, error) {
	for key, v := range map[string]any{"runImage": md.RunImage, "stack": md.Stack} {
		if v == nil || (key == "stack" && len(md.Stack) == 0) {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("encoding %s of %s: %w", key, cnbmeta.LabelLifecycleMetadata, err)
		}
		md.raw[key] = b
	}
	b, err := json.Marshal(md.raw)
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", cnbmeta.LabelLifecycleMetadata, err)
	}
	return string(b), nil
}
