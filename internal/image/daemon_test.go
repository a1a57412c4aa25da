package image

import (
	"context"
	"fmt"
	"os/exec"
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
