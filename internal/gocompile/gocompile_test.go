package gocompile

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/testenv"
)

func TestLayer(t *testing.T) {
	goCmd, goCache := testenv.NeedGo(t)
	tests := []struct {
		name    string
		goCmd   string
		src     string
		wantOut string
		wantErr string
	}{
		{"a program", goCmd, "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hi\") }\n", "hi", ""},
		{"not Go", goCmd, "package main\n\nfunc main() { undefined() }\n", "", "compiling hello"},
		{"no go command", filepath.Join(t.TempDir(), "go"), "package main\n", "", "env GOVERSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compiler{Go: tt.goCmd, GoCache: goCache}
			layer, bin, err := c.Layer(context.Background(), libcnb.Layers{Path: t.TempDir()}, "hello-layer", Program{Name: "hello", Source: []byte(tt.src)}, "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if layer.Name != "hello-layer" || !layer.LayerTypes.Launch || !layer.LayerTypes.Cache || layer.Metadata["source-sha256"] == nil || layer.Metadata["go"] == nil {
				t.Errorf("layer %+v", layer)
			}
			out, err := exec.Command(bin).Output()
			if err != nil || string(out) != tt.wantOut {
				t.Errorf("%s: %q, %v; want %q", bin, out, err, tt.wantOut)
			}
		})
	}
}
