package lifecycle

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/cnbmeta"
	"github.com/distill-build/distill/internal/image"
)

func exportFixture(t *testing.T) (*exporter, *BuildResult) {
	t.Helper()
	root := t.TempDir()
	dirs := &workDirs{root: root, host: dirSet{app: filepath.Join(root, "workspace"), layers: filepath.Join(root, "layers")}}
	os.MkdirAll(dirs.host.app, 0o755)
	os.WriteFile(filepath.Join(dirs.host.app, "index.html"), []byte("<p>hi</p>"), 0o644)
	bpDir := filepath.Join(dirs.host.layers, "distill_go")
	writeLayer(t, bpDir, "app", buildpack.LayerTypes{Launch: true}, "binary")
	os.MkdirAll(filepath.Join(bpDir, "app", "bin"), 0o755)
	os.MkdirAll(filepath.Join(bpDir, "app", "env.launch"), 0o755)
	os.WriteFile(filepath.Join(bpDir, "app", "env.launch", "GODEBUG"), []byte("x=1"), 0o644)
	writeLayer(t, bpDir, "go-cache", buildpack.LayerTypes{Cache: true}, "cache")
	os.WriteFile(filepath.Join(bpDir, "app.sbom.cdx.json"), []byte(`{"bomFormat":"CycloneDX"}`), 0o644)
	ls, err := buildpack.ReadLayers(bpDir)
	if err != nil {
		t.Fatal(err)
	}
	desc := &buildpack.Descriptor{Buildpack: buildpack.Info{ID: "distill/go", Version: "1.0.0"}}
	res := &BuildResult{
		Buildpacks: []BuildpackResult{{Desc: desc, Dir: bpDir, Layers: ls}},
		Processes: []buildpack.Process{
			{Type: "worker", Command: buildpack.Command{"/layers/distill_go/app/bin/worker"}, BuildpackID: "distill/go"},
			{Type: "web", Command: buildpack.Command{"/layers/distill_go/app/bin/web"}, Args: []string{"-v"}, BuildpackID: "distill/go"},
		},
	}
	return &exporter{dirs: dirs, uid: 1000, gid: 1000, previous: map[string]string{}, blobs: filepath.Join(root, "blobs")}, res
}

func TestExport(t *testing.T) {
	run, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	run, err = mutate.Config(run, mustConfig(t, run, []string{"PATH=/usr/bin", "SSL_CERT_DIR=/etc/ssl/certs"}))
	if err != nil {
		t.Fatal(err)
	}
	e, res := exportFixture(t)
	img, layers, err := e.Export(run, "distill/run:static", res)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range layers {
		keys = append(keys, l.ID.Key())
	}
	if got := strings.Join(keys, ","); got != "run-image distill/run:static,run-image distill/run:static,distill/go:app,sbom,app" {
		t.Errorf("layers = %s", got)
	}
	checkSizes(t, img, layers)
	checkSBOMLayer(t, img, 3, "layers/sbom/launch/distill_go/app/sbom.cdx.json", "layers/sbom/launch/distill_go/app/sbom.spdx.json")
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if strings.Join(c.Entrypoint, " ") != "/layers/distill_go/app/bin/web" || strings.Join(c.Cmd, " ") != "-v" {
		t.Errorf("entrypoint %v cmd %v, want the web process", c.Entrypoint, c.Cmd)
	}
	env := strings.Join(c.Env, "\n")
	for _, want := range []string{"PATH=/layers/distill_go/app/bin:/usr/bin", "GODEBUG=x=1", "CNB_APP_DIR=/workspace", "SSL_CERT_DIR=/etc/ssl/certs"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %s:\n%s", want, env)
		}
	}
	if c.User != "1000:1000" || c.WorkingDir != "/workspace" {
		t.Errorf("user %q workdir %q", c.User, c.WorkingDir)
	}
	if !cf.Created.Time.Equal(image.Epoch) {
		t.Errorf("created = %v", cf.Created)
	}
	var md cnbmeta.LifecycleMetadata
	if err := json.Unmarshal([]byte(c.Labels[cnbmeta.LabelLifecycleMetadata]), &md); err != nil {
		t.Fatal(err)
	}
	if md.RunImage.Image != "distill/run:static" || md.RunImage.TopLayer == "" || len(md.Buildpacks) != 1 || md.Buildpacks[0].Layers["app"].SHA == "" {
		t.Errorf("lifecycle metadata = %+v", md)
	}
	if _, ok := md.Buildpacks[0].Layers["go-cache"]; ok {
		t.Error("a cache-only layer is listed as exported")
	}
	var bm cnbmeta.BuildMetadata
	if err := json.Unmarshal([]byte(c.Labels[cnbmeta.LabelBuildMetadata]), &bm); err != nil || len(bm.Processes) != 2 {
		t.Errorf("build metadata %+v, %v", bm, err)
	}

	// The same inputs export to the same digest.
	e2, res2 := exportFixture(t)
	img2, _, err := e2.Export(run, "distill/run:static", res2)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := img2.Digest()
	if d1 != d2 {
		t.Errorf("digests differ: %s vs %s", d1, d2)
	}
}

// checkSizes compares the exported layers with the image's layers, read in full.
func checkSizes(t *testing.T, img v1.Image, exported []ExportedLayer) {
	t.Helper()
	ls, err := img.Layers()
	if err != nil || len(ls) != len(exported) {
		t.Fatalf("%d image layers (%v), %d exported", len(ls), err, len(exported))
	}
	for i, l := range ls {
		d, _ := l.Digest()
		diffID, _ := l.DiffID()
		size, _ := l.Size()
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := ExportedLayer{ID: exported[i].ID, DiffID: diffID, Digest: d, Compressed: size, Uncompressed: n, Reused: exported[i].Reused}
		if exported[i] != want {
			t.Errorf("layer %d = %+v, want %+v", i, exported[i], want)
		}
	}
}

// TestExportReuse: a second export with the first one's blobs and diff IDs
// marks unchanged layers reused, with the same sizes, and does not measure
// the run image again.
func TestExportReuse(t *testing.T) {
	run, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	blobs := t.TempDir()
	e, res := exportFixture(t)
	e.blobs = blobs
	_, first, err := e.Export(run, "distill/run:static", res)
	if err != nil {
		t.Fatal(err)
	}
	previous := map[string]string{}
	for _, l := range first {
		previous[l.ID.Key()] = l.DiffID.String()
	}
	previous["app"] = "sha256:changed"
	for _, l := range first[:2] {
		if _, err := os.Stat(filepath.Join(blobs, l.DiffID.Hex+".tar.zstd.json")); err != nil {
			t.Errorf("run image layer (recompressed as zstd) not kept: %v", err)
		}
	}

	runLayers, _ := run.Layers()
	unreadableRun, err := mutate.AppendLayers(empty.Image, unreadable{runLayers[0]}, unreadable{runLayers[1]})
	if err != nil {
		t.Fatal(err)
	}
	e2, res2 := exportFixture(t)
	e2.blobs, e2.previous = blobs, previous
	img, second, err := e2.Export(unreadableRun, "distill/run:static", res2)
	if err != nil {
		t.Fatalf("second export read the run image's layers: %v", err)
	}
	for i, want := range []bool{true, true, true, true, false} {
		if second[i].Reused != want {
			t.Errorf("layer %s reused = %v, want %v", second[i].ID.Key(), second[i].Reused, want)
		}
		if a, b := first[i], second[i]; a.Digest != b.Digest || a.Compressed != b.Compressed || a.Uncompressed != b.Uncompressed {
			t.Errorf("layer %s: first %+v, second %+v", a.ID.Key(), a, b)
		}
	}
	if _, err := img.Digest(); err != nil {
		t.Fatal(err)
	}
}

// unreadable is a layer that fails to decompress.
type unreadable struct{ v1.Layer }

func (unreadable) Uncompressed() (io.ReadCloser, error) { return nil, errors.New("decompressed") }

func TestDefaultProcess(t *testing.T) {
	p := func(typ string, def bool) buildpack.Process { return buildpack.Process{Type: typ, Default: def} }
	for _, tc := range []struct {
		name  string
		procs []buildpack.Process
		want  string
	}{
		{"explicit default", []buildpack.Process{p("web", false), p("worker", true)}, "worker"},
		{"web", []buildpack.Process{p("worker", false), p("web", false)}, "web"},
		{"only one", []buildpack.Process{p("server", false)}, "server"},
		{"none", []buildpack.Process{p("a", false), p("b", false)}, ""},
	} {
		got, ok := defaultProcess(tc.procs)
		if (tc.want == "") == ok || got.Type != tc.want {
			t.Errorf("%s: got %q, %v", tc.name, got.Type, ok)
		}
	}
}

func mustConfig(t *testing.T, img v1.Image, env []string) v1.Config {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.Config.Env = env
	return cf.Config
}

// checkSBOMLayer checks layer i of img holds the files want (the buildpack's
// CycloneDX SBOM and the SPDX form the exporter adds), and that the SPDX
// document is SPDX 2.3.
func checkSBOMLayer(t *testing.T, img v1.Image, i int, want ...string) {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ls[i].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[hdr.Name] = string(b)
	}
	for _, f := range want {
		if _, ok := files[f]; !ok {
			t.Errorf("the SBOM layer lacks %s: %v", f, files)
		}
		if strings.HasSuffix(f, ".spdx.json") && !strings.Contains(files[f], `"spdxVersion": "SPDX-2.3"`) {
			t.Errorf("%s is no SPDX 2.3 document:\n%s", f, files[f])
		}
	}
}
