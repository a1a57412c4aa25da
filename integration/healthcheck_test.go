package integration

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// TestHealthCheck: BP_HEALTHCHECK=true adds the health-check process to an
// image with no shell; run as an exec probe (podman exec, as Kubernetes runs
// one), it answers 0 while the app serves the path and 1 for a path the app
// does not serve. Without the setting the image has no checker.
func TestHealthCheck(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	const checker = "/layers/distill_health-check/health-check/bin/health-check"
	tag := "localhost/distill-it/health-check:go"
	b := distill(t, copyApp(t, "samples/go-mux"), "--daemon", tag, "--env", "BP_HEALTHCHECK=true", "--env", "BP_HEALTHCHECK_PATH=/")
	b.must(t)
	t.Cleanup(func() { harness.Podman(t, "rmi", "--force", tag) })
	if !strings.Contains(b.stdout+b.stderr, "Process health-check: "+checker) {
		t.Errorf("build output does not name the process")
	}
	found := false
	for _, l := range b.report.Layers {
		if l.Name == "distill/health-check:health-check" {
			found = true
			t.Logf("health-check layer: %d bytes compressed, %d uncompressed", l.Compressed, l.Uncompressed)
			if l.Compressed > 1<<20 {
				t.Errorf("the health-check layer is %d bytes compressed, want under 1 MiB", l.Compressed)
			}
		}
	}
	if !found {
		t.Errorf("the report has no distill/health-check:health-check layer: %+v", b.report.Layers)
	}
	c := harness.Run(t, tag)
	if status, _ := c.WaitHTTP(t, "/"); status != 200 {
		t.Fatalf("GET / = %d", status)
	}
	probe := func(env ...string) (string, error) {
		args := []string{"exec"}
		for _, e := range env {
			args = append(args, "--env", e)
		}
		out, err := exec.Command("podman", append(args, c.ID, checker)...).CombinedOutput()
		return string(out), err
	}
	if out, err := probe(); err != nil {
		t.Errorf("health check of a serving app: %v\n%s", err, out)
	}
	out, err := probe("HEALTHCHECK_PATH=/no-such-page")
	if err == nil || !strings.Contains(out, "status 404") {
		t.Errorf("health check of a path the app does not serve: %v %q, want exit 1 and status 404", err, out)
	}
	if out, err := exec.Command("podman", "exec", c.ID, "/bin/sh", "-c", "true").CombinedOutput(); err == nil {
		t.Errorf("the image has a shell: %s", out)
	}

	plain := harness.Files(t, sharedGoImage(t).layout)
	for _, f := range plain {
		if strings.Contains(f, "health-check") {
			t.Errorf("image built without BP_HEALTHCHECK has %s", f)
		}
	}
}
