// Package harness is what distill's integration tests stand on: it finds the
// machine's container tools (podman + runc, set up by scripts/setup; pack and
// the lifecycle, built by scripts/tools; the local registry, started by
// scripts/registry), loads OCI layouts into podman, runs images with $PORT and
// waits for their HTTP answers, and inspects images without starting them.
//
// Every helper takes a testing.TB, fails the test on error and registers its
// own cleanup. Where a tool is missing, helpers skip the test with a message
// that names the script to run; under CI (CI=true) they fail it instead, since
// scripts/test is expected to have provided everything.
package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/internal/testenv"
)

// DefaultSocket is where scripts/setup serves podman's Docker-compatible API.
const DefaultSocket = "/run/podman/podman.sock"

// DefaultRegistry is where scripts/registry serves the tests' registry.
const DefaultRegistry = "127.0.0.1:5000"

// commandTimeout bounds one podman command (a load or save of a large image
// included).
const commandTimeout = 5 * time.Minute

// InCI reports whether the tests run under CI (see testenv.InCI).
func InCI() bool { return testenv.InCI() }

// unavailable skips the test, or fails it under CI (see testenv.Unavailable).
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Unavailable(t, format, args...)
}

// Socket is the unix socket of the Docker-compatible API the tests use:
// DOCKER_HOST when it is a unix:// address, else DefaultSocket.
func Socket() string {
	if h, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://"); ok && h != "" {
		return h
	}
	return DefaultSocket
}

// DockerHost is the DOCKER_HOST value for tools (pack) that talk to podman.
func DockerHost() string { return "unix://" + Socket() }

// RequireTools makes sure podman, runc and podman's API socket are there
// (scripts/setup provides them). It skips the test when they are not, or fails
// it when CI=true.
func RequireTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s is not installed; run scripts/setup", tool)
			return
		}
	}
	if err := pingSocket(Socket()); err != nil {
		unavailable(t, "podman's API does not answer on %s (%v); run scripts/setup", Socket(), err)
	}
}

func pingSocket(socket string) error {
	c := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}},
	}
	resp, err := c.Get("http://d/_ping")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/_ping answered %s", resp.Status)
	}
	return nil
}

// ToolsDir is the directory scripts/tools fills (DISTILL_TOOLS, else
// .cache/tools at the module root): one directory per tool set (ToolSets) and,
// linked to the default set, bin/pack, lifecycle/, lifecycle.tgz.
// It skips the test (fails under CI) when pack or the lifecycle tarball is
// missing.
func ToolsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DISTILL_TOOLS")
	if dir == "" {
		if root, err := moduleRoot(); err == nil {
			dir = filepath.Join(root, ".cache", "tools")
		}
	}
	for _, f := range []string{"bin/pack", "lifecycle.tgz", "lifecycle/lifecycle", "lifecycle/launcher"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			unavailable(t, "%s has no %s (DISTILL_TOOLS=%q); run scripts/tools", dir, f, os.Getenv("DISTILL_TOOLS"))
			return ""
		}
	}
	return dir
}

// ToolSet is one pack + lifecycle pair that scripts/tools builds into
// <ToolsDir>/<Name>.
type ToolSet struct {
	Name string
	// PlatformAPIs are the Platform APIs the tests drive its lifecycle's
	// creator at: what kpack and Tekton use, up to the newest it speaks.
	PlatformAPIs []string
	Dir          string
}

// Pack is the set's pack CLI.
func (s ToolSet) Pack() string { return filepath.Join(s.Dir, "bin", "pack") }

// LifecycleTarball is the set's lifecycle archive, for `distill builder create
// --lifecycle` or builder.toml's `[lifecycle] uri`.
func (s ToolSet) LifecycleTarball() string { return filepath.Join(s.Dir, "lifecycle.tgz") }

// LifecycleTarballFor is the set's lifecycle archive for GOARCH arch:
// lifecycle.tgz for amd64, lifecycle-<arch>.tgz (cross-compiled by
// scripts/tools) for another. It skips the test (fails under CI) when the
// file is not there.
func (s ToolSet) LifecycleTarballFor(t testing.TB, arch string) string {
	t.Helper()
	p := s.LifecycleTarball()
	if arch != "amd64" {
		p = filepath.Join(s.Dir, "lifecycle-"+arch+".tgz")
	}
	if _, err := os.Stat(p); err != nil {
		unavailable(t, "tool set %s has no linux/%s lifecycle %s; run scripts/tools", s.Name, arch, p)
	}
	return p
}

// toolSets mirrors SETS in scripts/tools.
var toolSets = []ToolSet{
	{Name: "pack0.38-lifecycle0.20", PlatformAPIs: []string{"0.9", "0.13"}},
	{Name: "pack0.40-lifecycle0.21", PlatformAPIs: []string{"0.9", "0.13", "0.15"}},
}

// ToolSets are the tool sets scripts/tools builds, each checked to be there:
// it skips the test (fails under CI) when one is missing.
func ToolSets(t testing.TB) []ToolSet {
	t.Helper()
	root := ToolsDir(t)
	sets := make([]ToolSet, 0, len(toolSets))
	for _, s := range toolSets {
		s.Dir = filepath.Join(root, s.Name)
		for _, f := range []string{"bin/pack", "lifecycle.tgz", "lifecycle/lifecycle", "lifecycle/launcher"} {
			if _, err := os.Stat(filepath.Join(s.Dir, f)); err != nil {
				unavailable(t, "tool set %s has no %s in %s; run scripts/tools", s.Name, f, root)
				return nil
			}
		}
		sets = append(sets, s)
	}
	return sets
}

// Pack is the path of the pack CLI that scripts/tools built (the default set).
func Pack(t testing.TB) string {
	t.Helper()
	return filepath.Join(ToolsDir(t), "bin", "pack")
}

// LifecycleTarball is the lifecycle archive for builder.toml's `[lifecycle] uri`.
func LifecycleTarball(t testing.TB) string {
	t.Helper()
	return filepath.Join(ToolsDir(t), "lifecycle.tgz")
}

// SyftVersion is the syft scripts/tools builds (SYFT_VERSION there).
const SyftVersion = "1.57.1"

// Syft is the path of the syft scripts/tools built into <ToolsDir>/syft-<SyftVersion>/bin. It
// skips the test (fails under CI) when it is missing.
func Syft(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(ToolsDir(t), "syft-"+SyftVersion, "bin", "syft")
	if _, err := os.Stat(bin); err != nil {
		unavailable(t, "no syft %s at %s; run scripts/tools", SyftVersion, bin)
	}
	return bin
}

// Registry is the host:port of the tests' local registry (DISTILL_REGISTRY,
// else DefaultRegistry), checked to answer. It speaks plain HTTP.
func Registry(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("DISTILL_REGISTRY")
	if addr == "" {
		addr = DefaultRegistry
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/v2/")
	if err != nil {
		unavailable(t, "no registry answers on %s (%v); run scripts/registry start", addr, err)
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		unavailable(t, "the registry on %s answers /v2/ with %s", addr, resp.Status)
	}
	return addr
}

// moduleRoot finds the directory of the enclosing go.mod, from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Podman runs podman with args and returns its trimmed stdout; it fails the
// test with podman's stderr when the command fails.
func Podman(t testing.TB, args ...string) string {
	t.Helper()
	out, err := podman(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func podman(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}
