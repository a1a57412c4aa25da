package builder

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/distill-build/distill/internal/buildpack"
)

const validConfig = `
[[buildpacks]]
  uri = "buildpacks/go"
[[order]]
  [[order.group]]
    id = "distill/go"
[build]
  image = "distill/build:latest"
[[run.images]]
  image = "distill/run:base"
`

func TestReadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, content, wantErr string
	}{
		{name: "valid", content: validConfig},
		{name: "no build image", content: strings.Replace(validConfig, `image = "distill/build:latest"`, "", 1), wantErr: "[build] image is required"},
		{name: "no run image", content: strings.Replace(validConfig, "[[run.images]]\n  image = \"distill/run:base\"", "", 1), wantErr: "[[run.images]]"},
		{name: "no order", content: strings.Replace(validConfig, "[[order]]\n  [[order.group]]\n    id = \"distill/go\"", "", 1), wantErr: "[[order]]"},
		{name: "buildpack without uri", content: validConfig + "[[buildpacks]]\n  id = \"x\"\n", wantErr: "[[buildpacks]] #2: uri is required"},
		{name: "empty group", content: validConfig + "[[order]]\n", wantErr: "[[order]] #2: the group is empty"},
		{name: "group member without id", content: validConfig + "[[order]]\n  [[order.group]]\n    version = \"1\"\n",
			wantErr: "[[order]] #2: [[order.group]] #1: id is required"},
		{name: "empty extension group", content: validConfig + "[[order-extensions]]\n", wantErr: "[[order-extensions]] #1: the group is empty"},
		{name: "unknown field", content: "colour = \"blue\"\n" + validConfig, wantErr: `unknown field "colour"`},
		{name: "bad toml", content: "[build\n", wantErr: "reading builder config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "builder.toml")
			if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := ReadConfig(p)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := c.Resolve("buildpacks/go"); got != filepath.Join(filepath.Dir(p), "buildpacks/go") {
					t.Errorf("Resolve = %s", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want %q naming %s", err, tc.wantErr, p)
			}
		})
	}
	if _, err := ReadConfig(filepath.Join(t.TempDir(), "missing.toml")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing file: %v", err)
	}
}

// FuzzParseConfig: ParseConfig never panics; an error names the file; a
// config it accepts has what a build needs (a build image, a run image, an
// order whose groups name modules by id, a uri for every module), and
// writing it back out and reading that gives the same config. Seeds: the
// repository's builder.toml and testdata/fuzz/FuzzParseConfig.
func FuzzParseConfig(f *testing.F) {
	repo, err := os.ReadFile(filepath.Join("..", "..", "builder.toml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(repo), validConfig, validConfig + "[[order]]\n", "[stack]\nrun-image = \"r\"\n[build]\nimage = \"b\"\n[[order]]\n[[order.group]]\nid = \"x\"\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		const p = "/src/builder.toml"
		c, err := ParseConfig(p, []byte(content))
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name %s", err, p)
			}
			return
		}
		checkConfig(t, c)
		first := encodeConfig(t, c)
		c2, err := ParseConfig(p, first)
		if err != nil {
			t.Fatalf("the config written back does not parse: %v\n%s", err, first)
		}
		if second := encodeConfig(t, c2); !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the config:\n%s\nthen\n%s", first, second)
		}
	})
}

// checkConfig fails t unless c has what a build needs.
func checkConfig(t *testing.T, c *Config) {
	t.Helper()
	if c.Build.Image == "" || len(c.RunImages()) == 0 || len(c.Order) == 0 {
		t.Fatalf("accepted a config without a build image, run image or order: %+v", c)
	}
	for _, r := range c.RunImages() {
		if r.Image == "" {
			t.Fatalf("accepted an empty run image: %+v", c.RunImages())
		}
	}
	for _, g := range append(append(buildpack.Order{}, c.Order...), c.OrderExtensions...) {
		if len(g.Group) == 0 {
			t.Fatalf("accepted an empty group: %+v", c.Order)
		}
		for _, ref := range g.Group {
			if strings.TrimSpace(ref.ID) == "" {
				t.Fatalf("accepted a group member without an id: %+v", g)
			}
		}
	}
	for _, m := range append(append([]ModuleConfig{}, c.Buildpacks...), c.Extensions...) {
		if m.URI == "" {
			t.Fatalf("accepted a module without a uri: %+v", m)
		}
	}
}

func encodeConfig(t *testing.T, c *Config) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		t.Fatalf("encoding %+v: %v", c, err)
	}
	return b.Bytes()
}
