package staticserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/gocompile"
	"github.com/distill-build/distill/internal/testenv"
)

// TestProgram compiles the server as a build does (gocompile, the host's Go
// standing in for the build image's), checks the layer is reused on a second
// build, serves a directory, then stops it with SIGTERM.
func TestProgram(t *testing.T) {
	goCmd, goCache := testenv.NeedGo(t)
	c := gocompile.Compiler{Go: goCmd, GoCache: goCache}
	layers := libcnb.Layers{Path: t.TempDir()}
	layer, bin, err := c.Layer(context.Background(), layers, "static-server", Program, "")
	if err != nil {
		t.Fatal(err)
	}
	if !layer.LayerTypes.Launch || !layer.LayerTypes.Cache || bin != filepath.Join(layer.Path, "bin", "static-server") {
		t.Fatalf("layer %+v, binary %s", layer, bin)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 6<<20 {
		t.Errorf("static-server is %d bytes, want under 6 MiB", fi.Size())
	}

	site := t.TempDir()
	testenv.WriteFiles(t, site, map[string]string{"index.html": "home", "page.html": "page"})
	port := freePort(t)
	cmd := exec.Command(bin, site)
	cmd.Env = []string{"PORT=" + port}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	body := waitGet(t, "http://127.0.0.1:"+port+"/page")
	if body != "page" {
		t.Errorf("GET /page = %q, want the page", body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("static-server still runs 15 s after SIGTERM\n%s", out.String())
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// waitGet GETs url until the server answers (10 s at most).
func waitGet(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
