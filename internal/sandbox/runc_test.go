package sandbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// TestRunc runs a static probe binary in a minimal root file system through
// the real runc, as an unprivileged user, with a read-write bind mount.
func TestRunc(t *testing.T) {
	testenv.NeedCommand(t, "runc", "scripts/setup installs it")
	testenv.NeedRoot(t, "runc starts containers")
	rootfs := t.TempDir()
	for _, d := range []string{"bin", "etc", "proc", "dev", "sys", "tmp", "home", "data"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("go", "build", "-o", filepath.Join(rootfs, "bin", "probe"), "./testdata/probe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "in.txt"), []byte("hello"), 0o644)
	os.Chown(data, 1000, 1000)

	r := &Runc{Rootfs: rootfs, State: t.TempDir()}
	for _, tc := range []struct {
		name     string
		exit     string
		wantCode int
	}{
		{"success", "0", 0},
		{"detect fail code", "100", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := r.Run(context.Background(), Process{
				Args: []string{"/bin/probe"}, Env: []string{"EXIT=" + tc.exit, "HOME=/home/cnb"}, Dir: "/data", Home: "/home/cnb",
				UID: 1000, GID: 1000, Mounts: []Mount{{Source: data, Destination: "/data"}}, Stdout: &out, Stderr: &out,
			})
			var exit *ExitError
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Fatalf("run: %v\n%s", err, out.String())
			case tc.wantCode != 0 && (!errors.As(err, &exit) || exit.Code != tc.wantCode):
				t.Fatalf("err = %v, want exit %d\n%s", err, tc.wantCode, out.String())
			}
			got := out.String()
			for _, want := range []string{"uid=1000 gid=1000 cwd=/data", "in=hello"} {
				if !strings.Contains(got, want) {
					t.Errorf("output %q lacks %q", got, want)
				}
			}
			if strings.Contains(got, "rootfs is writable") || strings.Contains(got, "write:") || strings.Contains(got, "home:") {
				t.Errorf("unexpected: %s", got)
			}
			if b, err := os.ReadFile(filepath.Join(data, "out.txt")); err != nil || string(b) != "written" {
				t.Errorf("the mount was not writable: %v", err)
			}
		})
	}
}
