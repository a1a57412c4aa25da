package inspect

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/cnbmeta"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func tarLayer(t *testing.T, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func diffID(t *testing.T, l v1.Layer) string {
	t.Helper()
	d, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

const cdxApp = `{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
 {"type":"library","name":"stdlib","version":"1.25.4","purl":"pkg:golang/stdlib@1.25.4"},
 {"type":"library","name":"github.com/gorilla/mux","version":"v1.8.1","purl":"pkg:golang/github.com/gorilla/mux@v1.8.1"}]}`

// fakeImage is a run image layer, a buildpack layer, an SBOM layer (sbomDir
// is where the SBOMs lie in it), then extra layers named in the metadata by
// kind, with the given build metadata and entrypoint.
func fakeImage(t *testing.T, sbomPrefix string, extra map[string]v1.Layer, buildMD string, entrypoint []string) v1.Image {
	t.Helper()
	run, err := random.Image(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	runCf, _ := run.ConfigFile()
	bpLayer := tarLayer(t, map[string]string{"layers/distill_go/app/bin/server": "binary"})
	sbom := tarLayer(t, map[string]string{
		sbomPrefix + "layers/sbom/launch/distill_go/app/sbom.cdx.json": cdxApp,
		sbomPrefix + "layers/sbom/launch/distill_go/sbom.cdx.json":     `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"application","name":"app"}]}`,
	})
	md := map[string]any{
		"runImage":   map[string]string{"topLayer": runCf.RootFS.DiffIDs[0].String(), "reference": "sha256:run", "image": "distill/run:static"},
		"buildpacks": []any{map[string]any{"key": "distill/go", "version": "1.0.0", "layers": map[string]any{"app": map[string]string{"sha": diffID(t, bpLayer)}}}},
		"sbom":       map[string]string{"sha": diffID(t, sbom)},
	}
	layers := []v1.Layer{bpLayer, sbom}
	for kind, l := range extra {
		if kind == "app" {
			md["app"] = []map[string]string{{"sha": diffID(t, l)}}
		} else {
			md[kind] = map[string]string{"sha": diffID(t, l)}
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(run, layers...)
	if err != nil {
		t.Fatal(err)
	}
	mdJSON, _ := json.Marshal(md)
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = entrypoint
	cf.Config.Labels = map[string]string{
		cnbmeta.LabelLifecycleMetadata: string(mdJSON), cnbmeta.LabelBuildMetadata: buildMD,
		cnbmeta.LabelStackID: "io.distill.stacks.trixie", cnbmeta.LabelStackPackages: `[{"name":"base-files","version":"13.8"}]`,
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

func TestRead(t *testing.T) {
	app := tarLayer(t, map[string]string{"workspace/README": "hi"})
	launcher := tarLayer(t, map[string]string{"cnb/lifecycle/launcher": "launcher"})
	for _, tt := range []struct {
		name        string
		img         v1.Image
		wantKinds   []string
		wantDefault string
		wantCommand string
	}{
		{
			name: "distill build",
			img: fakeImage(t, "", map[string]v1.Layer{"app": app},
				`{"processes":[{"type":"web","command":["/layers/distill_go/app/bin/server"],"buildpackID":"distill/go"},{"type":"debug","command":["sh"],"direct":false}],"buildpacks":[{"id":"distill/go","version":"1.0.0"}]}`,
				[]string{"/layers/distill_go/app/bin/server"}),
			wantKinds:   []string{KindRunImage, KindBuildpack, KindSBOM, KindApp},
			wantDefault: "web", wantCommand: "/layers/distill_go/app/bin/server",
		},
		{
			name: "pack build (launcher, absolute names, string command)",
			img: fakeImage(t, "/", map[string]v1.Layer{"launcher": launcher},
				`{"processes":[{"type":"worker","command":"/layers/distill_go/app/bin/server","direct":true},{"type":"web","command":"server","direct":true}],"buildpacks":[{"id":"distill/go","version":"1.0.0"}]}`,
				[]string{"/cnb/process/worker"}),
			wantKinds:   []string{KindRunImage, KindBuildpack, KindSBOM, KindLauncher},
			wantDefault: "worker", wantCommand: "/layers/distill_go/app/bin/server",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(context.Background(), "test", tt.img, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			var sum int64
			for _, l := range got.Layers {
				kinds = append(kinds, l.Kind)
				sum += l.Compressed
			}
			if strings.Join(kinds, ",") != strings.Join(tt.wantKinds, ",") {
				t.Errorf("layer kinds %v, want %v", kinds, tt.wantKinds)
			}
			if sum != got.Compressed || got.Uncompressed <= 0 {
				t.Errorf("totals %d/%d, layers sum to %d", got.Compressed, got.Uncompressed, sum)
			}
			if got.DefaultProcess != tt.wantDefault || got.Processes[0].Command[0] != tt.wantCommand {
				t.Errorf("default %q, first command %v", got.DefaultProcess, got.Processes[0].Command)
			}
			if bp := got.Layers[1]; bp.Source() != "distill/go:app" || len(bp.Packages) != 2 || bp.Packages[0].Name != "github.com/gorilla/mux" {
				t.Errorf("buildpack layer %s has packages %+v", bp.Source(), bp.Packages)
			}
			if len(got.SBOMs) != 1 || got.SBOMs[0].Buildpack != "distill/go" {
				t.Errorf("image-wide SBOMs %+v", got.SBOMs)
			}
			if len(got.RunImage.Packages) != 1 || got.RunImage.Image != "distill/run:static" || got.StackID == "" {
				t.Errorf("run image %+v, stack %q", got.RunImage, got.StackID)
			}
			var text bytes.Buffer
			if err := got.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"distill/go 1.0.0", "* " + tt.wantDefault, "TOTAL", "github.com/gorilla/mux", "v1.8.1"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("text lacks %q:\n%s", want, text.String())
				}
			}
		})
	}
}

func TestReadRefuses(t *testing.T) {
	plain, err := random.Image(10, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		labels  map[string]string
		wantErr string
	}{
		{"no lifecycle metadata", nil, "has no io.buildpacks.lifecycle.metadata label"},
		{"broken metadata", map[string]string{cnbmeta.LabelLifecycleMetadata: "{"}, "decoding label io.buildpacks.lifecycle.metadata"},
		{"top layer not in image", map[string]string{cnbmeta.LabelLifecycleMetadata: `{"runImage":{"topLayer":"sha256:00"}}`}, "is not in the image"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cf, _ := plain.ConfigFile()
			cf = cf.DeepCopy()
			cf.Config.Labels = tt.labels
			img, err := mutate.ConfigFile(plain, cf)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Read(context.Background(), "plain", img, Options{}); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Read error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestReport(t *testing.T) {
	img := &Image{Name: "oci:out", Digest: "sha256:d", Layers: []Layer{
		{DiffID: "sha256:0123456789abcdef", Digest: "sha256:aa", Compressed: 300, Uncompressed: 900, Kind: KindRunImage},
		{DiffID: "sha256:fedcba9876543210", Digest: "sha256:bb", Compressed: 2000, Uncompressed: 5000, Kind: KindBuildpack, Buildpack: "distill/go", Name: "app"},
		{DiffID: "sha256:ffff", Digest: "sha256:cc", Compressed: 10, Uncompressed: 20, Kind: KindApp},
	}}
	rep := img.Report()
	for i, want := range []struct {
		name   string
		digest string
	}{
		{"run image  0123456789ab", "sha256:aa"},
		{"distill/go:app  fedcba987654", "sha256:bb"},
		{"app  sha256:ffff", "sha256:cc"},
	} {
		got := rep.Layers[i]
		if got.Name != want.name || len(got.Digests) != 1 || got.Digests[0] != want.digest || got.Compressed != img.Layers[i].Compressed || got.Uncompressed != img.Layers[i].Uncompressed {
			t.Errorf("row %d: %+v, want %s with digest %s and the layer's sizes", i, got, want.name, want.digest)
		}
	}
	if tot := rep.Total(); tot.Compressed != 2310 || tot.Uncompressed != 5920 || rep.Digest != img.Digest {
		t.Errorf("total %+v digest %s", tot, rep.Digest)
	}
}
