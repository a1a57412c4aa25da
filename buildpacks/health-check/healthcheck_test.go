package healthcheck

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/testenv"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		value   string
		set     bool
		pass    bool
		wantErr string
	}{
		{set: false, pass: false},
		{value: "", set: true, pass: false},
		{value: "true", set: true, pass: true},
		{value: " 1 ", set: true, pass: true},
		{value: "false", set: true, pass: false},
		{value: "yes", set: true, wantErr: `BP_HEALTHCHECK="yes": want true or false`},
	} {
		env := libcnb.Environment{}
		if tc.set {
			env["BP_HEALTHCHECK"] = tc.value
		}
		res, err := Detector{}.Detect(libcnb.DetectContext{Platform: libcnb.Platform{Environment: env}})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("BP_HEALTHCHECK=%q: err = %v, want %q", tc.value, err, tc.wantErr)
			}
			continue
		}
		if err != nil || res.Pass != tc.pass {
			t.Errorf("BP_HEALTHCHECK=%q (set %v): pass %v, %v; want %v", tc.value, tc.set, res.Pass, err, tc.pass)
		}
	}
}

// TestBuild compiles the checker with the host's Go (the build image's in a
// real build), then runs it against a server: healthy on the configured
// path, unhealthy elsewhere.
func TestBuild(t *testing.T) {
	goCmd, goCache := testenv.NeedGo(t)
	layers := t.TempDir()
	ctx := libcnb.BuildContext{
		Buildpack: libcnb.Buildpack{Info: libcnb.BuildpackInfo{Name: "health check", Version: "1"}},
		Layers:    libcnb.Layers{Path: layers},
		Platform:  libcnb.Platform{Environment: libcnb.Environment{"BP_HEALTHCHECK": "true", "BP_HEALTHCHECK_PATH": "/healthz"}},
	}
	res, err := Builder{Go: goCmd, GoCache: goCache}.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Processes) != 1 || res.Processes[0].Type != ProcessType || res.Processes[0].Default {
		t.Fatalf("processes = %+v", res.Processes)
	}
	if len(res.Layers) != 1 || !res.Layers[0].LayerTypes.Launch {
		t.Fatalf("layers = %+v", res.Layers)
	}
	checker := res.Processes[0].Command[0]
	fi, err := os.Stat(checker)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 2<<20 {
		t.Errorf("checker is %d bytes, want under 2 MiB", fi.Size())
	}
	if got := res.Layers[0].LaunchEnvironment["HEALTHCHECK_PATH.default"]; got != "/healthz" {
		t.Errorf("HEALTHCHECK_PATH.default = %q", got)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for path, healthy := range map[string]bool{"/healthz": true, "/other": false} {
		cmd := exec.Command(checker)
		cmd.Env = []string{"PORT=" + port, "HEALTHCHECK_PATH=" + path}
		out, err := cmd.CombinedOutput()
		if (err == nil) != healthy {
			t.Errorf("checker on %s: %v %s, want healthy %v", path, err, out, healthy)
		}
	}
	if res.Layers[0].Metadata["source-sha256"] == nil || res.Layers[0].Path != filepath.Join(layers, LayerName) {
		t.Errorf("layer %s, metadata %v", res.Layers[0].Path, res.Layers[0].Metadata)
	}
}

func TestBuildRejectsPath(t *testing.T) {
	ctx := libcnb.BuildContext{
		Layers:   libcnb.Layers{Path: t.TempDir()},
		Platform: libcnb.Platform{Environment: libcnb.Environment{"BP_HEALTHCHECK_PATH": "healthz"}},
	}
	if _, err := (Builder{Go: "go"}).Build(ctx); err == nil || !strings.Contains(err.Error(), "BP_HEALTHCHECK_PATH") {
		t.Errorf("err = %v, want one naming BP_HEALTHCHECK_PATH", err)
	}
}
