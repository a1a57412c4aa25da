package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/distill-build/distill/internal/testenv"
)

// daemonOrSkip skips unless a Docker API (podman's, usually) answers.
func daemonOrSkip(t *testing.T) {
	t.Helper()
	c, err := DaemonClient()
	if err != nil {
		testenv.Unavailable(t, "no Docker API client: %v", err)
		return
	}
	defer c.Close()
	if err := pingDaemon(context.Background(), c); err != nil {
		testenv.Unavailable(t, "no Docker API at %s (start one: podman system service --time=0 unix://%s): %v", DaemonHost(), PodmanSocket, err)
	}
}

func TestDaemon(t *testing.T) {
	daemonOrSkip(t)
	testenv.NeedCommand(t, "podman", "scripts/setup installs it")
	ctx := context.Background()
	img := imageOf(t, tarLayer(t, file("hello", fmt.Sprint(time.Now().UnixNano()))))
	for _, ref := range []string{"localhost/distill-test/tiny:1", "distill-test-tiny:1"} {
		t.Run(ref, func(t *testing.T) {
			tag, err := name.NewTag(ref)
			if err != nil {
				t.Fatal(err)
			}
			if err := Daemon(tag).Write(ctx, img); err != nil {
				t.Fatal(err)
			}
			defer exec.Command("podman", "rmi", "-f", ref).Run()
			if out, err := exec.Command("podman", "image", "exists", ref).CombinedOutput(); err != nil {
				t.Fatalf("podman image exists %s: %v %s", ref, err, out)
			}
			got, err := Resolve(ctx, ref, WithSources(FromDaemon))
			if err != nil {
				t.Fatal(err)
			}
			gotCfg, _ := got.ConfigName()
			wantCfg, _ := img.ConfigName()
			if gotCfg != wantCfg {
				t.Errorf("image ID in the daemon = %s, want %s", gotCfg, wantCfg)
			}
		})
	}
}

// TestDaemonZstdImage: an image loaded as gzip whose config podman
// already has from a zstd pull (the same build written to an OCI layout or
// registry, then pulled) becomes a tag of that zstd image, which podman 4
// cannot save as a Docker archive ("zstd compression is not supported for
// docker images"). Resolve still reads it, through podman's OCI archive
// export, and removes its temporary files on request.
func TestDaemonZstdImage(t *testing.T) {
	daemonOrSkip(t)
	testenv.NeedCommand(t, "podman", "scripts/setup installs it")
	ctx := context.Background()
	shared := tarLayer(t, file("shared", fmt.Sprint(time.Now().UnixNano())))
	zimg, err := Recompressed(imageOf(t, shared), Zstd, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	layout, err := os.MkdirTemp("", "distill-zstd-") // podman names the image after the path: lower case
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(layout) })
	if err := OCILayout(layout).Write(ctx, zimg); err != nil {
		t.Fatal(err)
	}
	zref, ref := "localhost/distill-test/zstd:1", "localhost/distill-test/gzip-over-zstd:1"
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", ref, zref).Run() })
	out, err := exec.Command("podman", "pull", "--quiet", "oci:"+layout).Output()
	if err != nil {
		t.Fatalf("podman pull oci:%s: %v", layout, err)
	}
	if out, err := exec.Command("podman", "tag", strings.TrimSpace(string(out)), zref).CombinedOutput(); err != nil {
		t.Fatalf("podman tag: %v\n%s", err, out)
	}
	exec.Command("podman", "untag", "localhost"+layout).Run()
	img := imageOf(t, shared) // the same image ID: podman tags the zstd image
	tag, _ := name.NewTag(ref)
	if err := Daemon(tag).Write(ctx, img); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("podman", "save", "-o", filepath.Join(t.TempDir(), "x.tar"), ref).CombinedOutput(); err != nil {
		t.Logf("podman save %s fails here, as expected on podman 4: %s", ref, out)
	}
	got, err := Resolve(ctx, ref, WithSources(FromDaemon))
	if err != nil {
		t.Fatal(err)
	}
	gotLayers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	wantLayers, _ := img.Layers()
	if len(gotLayers) != len(wantLayers) {
		t.Fatalf("%d layers, want %d", len(gotLayers), len(wantLayers))
	}
	for i, l := range gotLayers {
		got, err := l.DiffID()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if want, _ := wantLayers[i].DiffID(); got != want || err != nil || n == 0 {
			t.Errorf("layer %d: diff ID %s, want %s; read %d bytes: %v", i, got, want, n, err)
		}
	}
	before := len(temporaries.paths)
	if before == 0 {
		t.Fatal("no temporary directory recorded for the podman image")
	}
	RemoveTemporaries()
	if len(temporaries.paths) != 0 {
		t.Errorf("RemoveTemporaries left %v", temporaries.paths)
	}
}
