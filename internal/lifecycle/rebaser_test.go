package lifecycle

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/cnbmeta"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// fakeRun is a run image of n random layers with the given labels, for linux/arch.
func fakeRun(t *testing.T, n int, arch string, labels map[string]string) v1.Image {
	t.Helper()
	img, err := random.Image(64, int64(n))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Labels = labels
	cf.Config.Env = []string{"PATH=/usr/bin"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// fakeApp is run plus two app layers, with the lifecycle metadata a build on
// run (named runRef) writes and extra fields pack's lifecycle adds.
func fakeApp(t *testing.T, run v1.Image, runRef string, lifecycleStyle bool) v1.Image {
	t.Helper()
	a, err := random.Layer(64, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	b, err := random.Layer(64, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(run, a, b)
	if err != nil {
		t.Fatal(err)
	}
	runCf, err := run.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	d, err := run.Digest()
	if err != nil {
		t.Fatal(err)
	}
	reference := d.String()
	if lifecycleStyle { // the lifecycle records <repository>@<digest>
		repo, _, _ := strings.Cut(runRef, ":")
		reference = repo + "@" + d.String()
	}
	md, _ := json.Marshal(map[string]any{
		"app":      []map[string]string{{"sha": "sha256:app"}},
		"launcher": map[string]string{"sha": "sha256:launcher"},
		"runImage": map[string]any{"topLayer": runCf.RootFS.DiffIDs[len(runCf.RootFS.DiffIDs)-1].String(), "reference": reference, "image": runRef},
		"stack":    map[string]any{"runImage": map[string]any{"image": runRef}},
	})
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Labels = map[string]string{cnbmeta.LabelLifecycleMetadata: string(md), "custom": "kept"}
	for k, v := range runCf.Config.Labels {
		cf.Config.Labels[k] = v
	}
	cf.Config.Entrypoint = []string{"/layers/app/bin/server"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

func TestRebase(t *testing.T) {
	stackLabels := func(id, pkgs string) map[string]string {
		return map[string]string{cnbmeta.LabelStackID: id, "io.distill.stack.packages": pkgs}
	}
	oldRun := fakeRun(t, 1, "amd64", stackLabels("io.distill.stacks.trixie", `[{"name":"libc6","version":"1"}]`))
	app := fakeApp(t, oldRun, "distill/run:base", false)
	packApp := fakeApp(t, oldRun, "example.com/run:base", true)
	noMetadata, err := mutate.AppendLayers(oldRun)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		app     v1.Image
		run     v1.Image
		ref     string
		force   bool
		wantErr string
		current bool
	}{
		{name: "newer run image", app: app, run: fakeRun(t, 2, "amd64", stackLabels("io.distill.stacks.trixie", `[{"name":"libc6","version":"2"}]`)), ref: "distill/run:base"},
		{name: "fully qualified name", app: app, run: fakeRun(t, 2, "amd64", stackLabels("io.distill.stacks.trixie", "[]")), ref: "index.docker.io/distill/run:base"},
		{name: "already current", app: app, run: oldRun, ref: "distill/run:base", current: true},
		{name: "pack-built, already current", app: packApp, run: oldRun, ref: "example.com/run:base", current: true},
		{name: "pack-built, newer run image", app: packApp, run: fakeRun(t, 2, "amd64", stackLabels("io.distill.stacks.trixie", "[]")), ref: "example.com/run:base"},
		{name: "other stack", app: app, run: fakeRun(t, 1, "amd64", stackLabels("io.other", "[]")), ref: "distill/run:base", wantErr: `of stack "io.other"`},
		{name: "run image without stack label", app: app, run: fakeRun(t, 1, "amd64", nil), ref: "distill/run:base", wantErr: "has no io.buildpacks.stack.id label"},
		{name: "other architecture", app: app, run: fakeRun(t, 1, "arm64", stackLabels("io.distill.stacks.trixie", "[]")), ref: "distill/run:base", wantErr: "is for linux/arm64, the app for linux/amd64"},
		{name: "other run image", app: app, run: fakeRun(t, 1, "amd64", stackLabels("io.distill.stacks.trixie", "[]")), ref: "example.com/run:new", wantErr: "pass --force"},
		{name: "other run image forced", app: app, run: fakeRun(t, 1, "amd64", stackLabels("io.distill.stacks.trixie", "[]")), ref: "example.com/run:new", force: true},
		{name: "no lifecycle metadata", app: noMetadata, run: oldRun, ref: "distill/run:base", wantErr: "has no io.buildpacks.lifecycle.metadata label"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, res, err := Rebase(tt.app, tt.run, RebaseOptions{RunImageRef: tt.ref, Force: tt.force})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Rebase error = %v, want one saying %q", err, tt.wantErr)
				}
				if incompatible := tt.app != noMetadata; errors.Is(err, ErrIncompatibleRunImage) != incompatible {
					t.Errorf("errors.Is(%v, ErrIncompatibleRunImage) = %v, want %v", err, !incompatible, incompatible)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Current != tt.current {
				t.Fatalf("Current = %v, want %v", res.Current, tt.current)
			}
			checkRebased(t, tt.app, tt.run, got, tt.ref, tt.force)
		})
	}
}

// checkRebased checks got is run's layers, then app's layers above its old
// run image byte for byte, with app's config and metadata naming run.
func checkRebased(t *testing.T, app, run, got v1.Image, ref string, force bool) {
	t.Helper()
	runLayers, _ := run.Layers()
	appLayers, _ := app.Layers()
	gotLayers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if want := len(runLayers) + 2; len(gotLayers) != want {
		t.Fatalf("%d layers, want %d", len(gotLayers), want)
	}
	for i, want := range append(append([]v1.Layer{}, runLayers...), appLayers[len(appLayers)-2:]...) {
		wd, _ := want.Digest()
		gd, _ := gotLayers[i].Digest()
		if wd != gd {
			t.Errorf("layer %d is %s, want %s", i, gd, wd)
		}
	}
	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	runCf, _ := run.ConfigFile()
	runDigest, _ := run.Digest()
	var md struct {
		Launcher map[string]string `json:"launcher"`
		RunImage struct{ TopLayer, Reference, Image string }
		Stack    struct{ RunImage struct{ Image string } }
	}
	if err := json.Unmarshal([]byte(cf.Config.Labels[cnbmeta.LabelLifecycleMetadata]), &md); err != nil {
		t.Fatal(err)
	}
	if want := runCf.RootFS.DiffIDs[len(runCf.RootFS.DiffIDs)-1].String(); md.RunImage.TopLayer != want {
		t.Errorf("runImage.topLayer = %s, want %s", md.RunImage.TopLayer, want)
	}
	if _, digest, ok := strings.Cut(md.RunImage.Reference, "@"); ok {
		if repo, _, _ := strings.Cut(ref, ":"); !strings.HasPrefix(md.RunImage.Reference, repo+"@") {
			t.Errorf("runImage.reference = %s, want %s@<digest>, as the lifecycle records it", md.RunImage.Reference, repo)
		}
		md.RunImage.Reference = digest
	}
	if md.RunImage.Reference != runDigest.String() {
		t.Errorf("runImage.reference = %s, want %s", md.RunImage.Reference, runDigest)
	}
	if md.Launcher["sha"] != "sha256:launcher" {
		t.Errorf("pack's launcher field was lost: %v", md.Launcher)
	}
	if force && (md.RunImage.Image != ref || md.Stack.RunImage.Image != ref) {
		t.Errorf("forced onto %s, metadata names %q / %q", ref, md.RunImage.Image, md.Stack.RunImage.Image)
	}
	for _, k := range []string{cnbmeta.LabelStackID, "io.distill.stack.packages"} {
		if cf.Config.Labels[k] != runCf.Config.Labels[k] {
			t.Errorf("label %s = %q, want the run image's %q", k, cf.Config.Labels[k], runCf.Config.Labels[k])
		}
	}
	if cf.Config.Labels["custom"] != "kept" || len(cf.Config.Entrypoint) != 1 {
		t.Errorf("the app's config was not kept: %+v", cf.Config)
	}
}
