package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
