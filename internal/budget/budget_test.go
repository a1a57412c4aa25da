package budget

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/distill-build/distill/internal/report"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		spec    string
		want    int64
		wantErr bool
	}{
		{spec: "50MB", want: 50_000_000},
		{spec: "50 MB", want: 50_000_000},
		{spec: "1.5GB", want: 1_500_000_000},
		{spec: "500kB", want: 500_000},
		{spec: "50MiB", want: 50 << 20},
		{spec: "1048576", want: 1 << 20},
		{spec: "fifty", wantErr: true},
		{spec: "50XB", wantErr: true},
		{spec: "0", wantErr: true},
		{spec: "", wantErr: true},
	} {
		t.Run(tt.spec, func(t *testing.T) {
			b, err := Parse(tt.spec, "--max-size")
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "--max-size") {
					t.Fatalf("Parse(%q) = %+v, %v; want an error naming --max-size", tt.spec, b, err)
				}
				return
			}
			if err != nil || b.Max != tt.want {
				t.Fatalf("Parse(%q) = %d, %v; want %d", tt.spec, b.Max, err, tt.want)
			}
		})
	}
}

// layerOf is an uncompressed-tar layer of files (name → size in bytes).
func layerOf(t *testing.T, files map[string]int) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, size := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(bytes.Repeat([]byte{'x'}, size)); err != nil {
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

func TestCheck(t *testing.T) {
	img, err := mutate.AppendLayers(empty.Image,
		layerOf(t, map[string]int{"etc/a": 10, "usr/lib/libc.so": 9000}),
		layerOf(t, map[string]int{"layers/distill_go/app/bin/app": 50_000, "layers/distill_go/app/README": 5}),
		layerOf(t, map[string]int{"workspace/x": 700, "workspace/y": 600, "workspace/z": 1}),
	)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"run image  distill/run:static", "distill/go:app", "app"}
	rep := &report.Report{Digest: "sha256:abc", Layers: []report.Layer{
		{Name: names[0], Compressed: 3_000, Uncompressed: 9_100},
		{Name: names[1], Compressed: 20_000, Uncompressed: 50_100},
		{Name: names[2], Compressed: 500, Uncompressed: 1_400},
	}}
	for _, tt := range []struct {
		name     string
		max      int64
		exceeded bool
		platform string // the report's, in a multi-platform build
	}{
		{name: "no budget", max: 0},
		{name: "within", max: 23_500},
		{name: "over", max: 10_000, exceeded: true},
		{name: "over, one platform of several", max: 10_000, exceeded: true, platform: "linux/arm64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := *rep
			rep.Platform = tt.platform
			err := Check(context.Background(), img, &rep, names, Budget{Max: tt.max, Spec: "10kB", Source: "--max-size"})
			var ex *ExceededError
			if !tt.exceeded {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.As(err, &ex) {
				t.Fatalf("Check = %v, want an *ExceededError", err)
			}
			wantFiles := []string{"/layers/distill_go/app/bin/app", "/usr/lib/libc.so", "/workspace/x", "/workspace/y", "/etc/a"}
			var got []string
			for _, f := range ex.Largest {
				got = append(got, f.Path)
			}
			if strings.Join(got, " ") != strings.Join(wantFiles, " ") || ex.Largest[0].Layer != "distill/go:app" {
				t.Errorf("largest files %+v, want %v", ex.Largest, wantFiles)
			}
			msg := err.Error()
			lead := "image sha256:abc is "
			if tt.platform != "" {
				lead = "the " + tt.platform + " image sha256:abc is "
			}
			if !strings.HasPrefix(msg, lead) {
				t.Errorf("error does not start with %q:\n%s", lead, msg)
			}
			for _, want := range []string{"23.5 kB compressed, over the budget of 10.0 kB (--max-size 10kB) by 13.5 kB", "no image was written", "LAYER", "TOTAL", "50.0 kB  /layers/distill_go/app/bin/app  (distill/go:app)"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}
