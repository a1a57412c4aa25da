// Package integration builds real apps with the real distill CLI, runs the
// images in podman (runc) and checks what users would: the app answers on
// $PORT, the image is small, non-root, shell-free and reproducible.
package integration

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

var (
	distillBin string
	repoRoot   string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// Every test skips itself under -short (testenv.Slow): no binary to build.
		os.Exit(m.Run())
	}
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Dir(filepath.Dir(file))
	dir, err := os.MkdirTemp("", "distill-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	distillBin = filepath.Join(dir, "distill")
	build := exec.Command("go", "build", "-o", distillBin, "./cmd/distill")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building distill: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build is one `distill build` run.
type build struct {
	stdout, stderr string
	err            error
	report         jsonReport
	reportJSON     []byte // the --report-json file as written
}

type jsonReport struct {
	Digest string `json:"digest"`
	Layers []struct {
		Name         string   `json:"name"`
		Compressed   int64    `json:"compressed"`
		Uncompressed int64    `json:"uncompressed"`
		Reused       bool     `json:"reused"`
		Digests      []string `json:"digests"`
	} `json:"layers"`
	Total struct {
		Compressed   int64 `json:"compressed"`
		Uncompressed int64 `json:"uncompressed"`
	} `json:"total"`
}

// distill runs `distill build app args...` with the builder the binary
// carries and a report file, and decodes the report on success.
func distill(t *testing.T, app string, args ...string) build {
	t.Helper()
	reportFile := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(distillBin, append([]string{"build", app, "--report-json", reportFile}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	b := build{err: cmd.Run()}
	b.stdout, b.stderr = stdout.String(), stderr.String()
	if b.err == nil {
		data, err := os.ReadFile(reportFile)
		if err != nil {
			t.Fatalf("reading the JSON report: %v\n%s", err, b.stderr)
		}
		b.reportJSON = data
		if err := json.Unmarshal(data, &b.report); err != nil {
			t.Fatalf("decoding the JSON report: %v", err)
		}
	}
	return b
}

func (b build) must(t *testing.T) build {
	t.Helper()
	if b.err != nil {
		t.Fatalf("distill build: %v\nstdout:\n%s\nstderr:\n%s", b.err, b.stdout, b.stderr)
	}
	return b
}

// layerDigests maps a report row name to its layer digests.
func (b build) layerDigests() map[string]string {
	m := map[string]string{}
	for _, l := range b.report.Layers {
		m[l.Name] = strings.Join(l.Digests, ",")
	}
	return m
}

// copyApp copies an app (a path relative to the repository root) into a fresh directory, so each test has its
// own source and build cache.
func copyApp(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(name))
	out, err := exec.Command("cp", "-r", filepath.Join(repoRoot, filepath.FromSlash(name)), dst).CombinedOutput()
	if err != nil {
		t.Fatalf("copying sample %s: %v: %s", name, err, out)
	}
	return dst
}

// sharedCase is the app of a case from the users' reports kept beside the repository
// (../shared/cases/<name>/app; DISTILL_SHARED_CASES names another cases directory, and the
// workplace's /work/shared/cases serves a clone made elsewhere).
func sharedCase(name string) string {
	dirs := []string{os.Getenv("DISTILL_SHARED_CASES"), filepath.Join(repoRoot, "..", "shared", "cases"), "/work/shared/cases"}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, name, "app")); err == nil {
			return filepath.Join(d, name, "app")
		}
	}
	return filepath.Join(repoRoot, "..", "shared", "cases", name, "app")
}

// copySharedCase copies a shared case's app into a temporary directory; a missing case fails
// under CI (testenv.Unavailable).
func copySharedCase(t *testing.T, src string) string {
	t.Helper()
	if _, err := os.Stat(src); err != nil {
		testenv.Unavailable(t, "shared case %s: %v", src, err)
	}
	dst := filepath.Join(t.TempDir(), "app")
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v: %s", src, err, out)
	}
	return dst
}
