package builderimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"

	"github.com/distill-build/distill/internal/cnbmeta"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/distill-build/distill/internal/builder"
)

// fixtureBuilder writes a builder.toml with one prebuilt buildpack and one
// prebuilt extension, and a lifecycle tarball, into a temporary directory.
func fixtureBuilder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("bp/buildpack.toml", "api = \"0.10\"\n[buildpack]\nid = \"test/bp\"\nversion = \"1.2.3\"\n[[targets]]\nos = \"linux\"\narch = \"amd64\"\n", 0o644)
	write("bp/bin/build", "#!/bin/sh\n", 0o755)
	write("bp/bin/detect", "#!/bin/sh\n", 0o755)
	write("ext/extension.toml", "api = \"0.10\"\n[extension]\nid = \"test/ext\"\nversion = \"0.1.0\"\n", 0o644)
	write("ext/bin/generate", "#!/bin/sh\n", 0o755)
	write("ext/bin/detect", "#!/bin/sh\n", 0o755)
	write("builder.toml", `
[[buildpacks]]
  uri = "bp"
[[extensions]]
  uri = "ext"
[[order]]
  [[order.group]]
    id = "test/bp"
[[order-extensions]]
  [[order-extensions.group]]
    id = "test/ext"
    optional = true
[build]
  image = "distill/build:latest"
[[run.images]]
  image = "distill/run:base"
[stack]
  id = "io.distill.stacks.trixie"
[lifecycle]
  uri = "lifecycle.tgz"
`, 0o644)

	testenv.WriteTarGz(t, filepath.Join(dir, "lifecycle.tgz"),
		testenv.TarFile{Name: "lifecycle.toml", Body: []byte("[apis.buildpack]\nsupported = [\"0.10\"]\n[apis.platform]\nsupported = [\"0.9\", \"0.13\"]\n[lifecycle]\nversion = \"0.20.11\"\n")},
		testenv.TarFile{Name: "lifecycle/lifecycle", Body: []byte("binary")},
		testenv.TarFile{Name: "lifecycle/launcher", Body: []byte("binary")})
	return filepath.Join(dir, "builder.toml")
}

func buildImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	cfg.Env = []string{"CNB_USER_ID=1000", "CNB_GROUP_ID=1000", "PATH=/usr/bin"}
	cfg.Labels = map[string]string{cnbmeta.LabelStackID: "io.distill.stacks.trixie"}
	img, err = mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func files(t *testing.T, img v1.Image) map[string]bool {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(hdr.Name, "/")] = true
	}
}

func TestCreateAndReadBack(t *testing.T) {
	ctx := t.Context()
	b, err := builder.Load(fixtureBuilder(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	build := buildImage(t)
	img, err := Create(ctx, b, build, CreateOptions{Staging: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := files(t, img)
	for _, want := range []string{
		"cnb/order.toml", "cnb/run.toml", "cnb/stack.toml", "cnb/lifecycle/lifecycle",
		"cnb/buildpacks/test_bp/1.2.3/bin/build", "cnb/buildpacks/test_bp/1.2.3/buildpack.toml",
		"cnb/extensions/test_ext/0.1.0/bin/generate",
	} {
		if !got[want] {
			t.Errorf("builder image lacks %s", want)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var md BuilderMetadata
	if err := json.Unmarshal([]byte(cf.Config.Labels[LabelBuilderMetadata]), &md); err != nil {
		t.Fatalf("%s: %v", LabelBuilderMetadata, err)
	}
	for _, l := range []string{LabelBuildpackLayers, LabelBuildpackOrder, cnbmeta.LabelStackID} {
		if cf.Config.Labels[l] == "" {
			t.Errorf("label %s missing", l)
		}
	}

	back, err := FromImage(ctx, "test-builder", img, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Buildpacks) != 1 || back.Buildpacks[0].Info().ID != "test/bp" || back.Buildpacks[0].Info().Version != "1.2.3" {
		t.Fatalf("buildpacks read back: %+v", back.Buildpacks)
	}
	if len(back.Extensions) != 1 || back.Extensions[0].Info().ID != "test/ext" {
		t.Fatalf("extensions read back: %+v", back.Extensions)
	}
	if _, err := os.Stat(filepath.Join(back.Buildpacks[0].Dir, "bin", "build")); err != nil {
		t.Errorf("extracted buildpack lacks bin/build: %v", err)
	}
	if len(back.Config.Order) != 1 || back.Config.Order[0].Group[0].ID != "test/bp" {
		t.Errorf("order read back: %+v", back.Config.Order)
	}
	if imgs := back.Config.RunImages(); len(imgs) == 0 || imgs[0].Image != "distill/run:base" {
		t.Errorf("run images read back: %+v", imgs)
	}

	// The same inputs make the same builder.
	again, err := Create(ctx, b, build, CreateOptions{Staging: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two builder creations differ: %s vs %s", d1, d2)
	}
}

func TestCreateRefusesAMismatchedStack(t *testing.T) {
	ctx := t.Context()
	p := fixtureBuilder(t)
	raw, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(raw, []byte(`id = "io.distill.stacks.trixie"`), []byte(`id = "other.stack"`), 1), 0o644)
	b, err := builder.Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(ctx, b, buildImage(t), CreateOptions{Staging: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "other.stack") {
		t.Fatalf("err = %v, want a stack id mismatch", err)
	}
}
