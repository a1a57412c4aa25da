// Package healthcheck is the distill/health-check buildpack: with
// BP_HEALTHCHECK=true it compiles the checker in ./checker with the build
// image's Go into a launch layer and declares a health-check process, so an
// image with no shell or curl can still be probed (podman healthcheck,
// Kubernetes exec probes). It is compiled into the distill binary, which a
// builder installs as bin/build with bin/detect a symlink to it.
package healthcheck

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/buildpack"
)

// checkerSource is the checker's program, compiled at build time.
//
//go:embed checker/main.go
var checkerSource []byte

const (
	// LayerName is the launch layer holding bin/health-check.
	LayerName = "health-check"
	// ProcessType is the process the buildpack declares (never the default).
	ProcessType = "health-check"
)

// Main runs bin/detect or bin/build, by the base name of os.Args[0], and exits.
func Main() {
	logger := log.NewPaketoLogger(os.Stdout)
	libpak.BuildpackMain(Detector{Logger: logger}.Detect, Builder{Logger: logger}.Build)
}

// Detector passes when BP_HEALTHCHECK is true. It provides and requires
// nothing, so it sits (optional) at the end of every order group.
type Detector struct {
	Logger log.Logger
}

// Detect reads BP_HEALTHCHECK (strconv.ParseBool); an unreadable value fails
// the build with the setting named.
func (d Detector) Detect(ctx libcnb.DetectContext) (libcnb.DetectResult, error) {
	on, err := enabled(buildpack.Config(ctx.Platform.Environment))
	if err != nil {
		return libcnb.DetectResult{}, err
	}
	if !on && d.Logger != nil {
		d.Logger.Body("SKIPPED: BP_HEALTHCHECK is not true")
	}
	return libcnb.DetectResult{Pass: on}, nil
}

// enabled reads BP_HEALTHCHECK (unset: false).
func enabled(c buildpack.Config) (bool, error) {
	v, ok := c.Lookup("BP_HEALTHCHECK")
	if !ok || strings.TrimSpace(v) == "" {
		return false, nil
	}
	on, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("BP_HEALTHCHECK=%q: want true or false", v)
	}
	return on, nil
}

// Builder compiles the checker and declares the process.
type Builder struct {
	Logger log.Logger
	// Go is the go command (default: go on PATH, the build image's).
	Go string
	// GoCache is the GOCACHE to compile with (default: a temporary one).
	GoCache string
}

// Build contributes the health-check layer (cached by checker source and Go
// version) and the health-check process; BP_HEALTHCHECK_PATH becomes the
// layer's default HEALTHCHECK_PATH at launch.
func (b Builder) Build(ctx libcnb.BuildContext) (libcnb.BuildResult, error) {
	result := libcnb.NewBuildResult()
	if b.Logger == nil {
		b.Logger = log.NewPaketoLogger(os.Stdout)
	}
	b.Logger.Titlef("%s %s", ctx.Buildpack.Info.Name, ctx.Buildpack.Info.Version)
	path := buildpack.Config(ctx.Platform.Environment).Get("BP_HEALTHCHECK_PATH")
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n") {
		return result, fmt.Errorf("BP_HEALTHCHECK_PATH=%q: want an absolute URL path like /healthz", path)
	}
	goCmd := b.Go
	if goCmd == "" {
		var err error
		if goCmd, err = exec.LookPath("go"); err != nil {
			return result, fmt.Errorf("the health check is compiled with the build image's Go, and there is none on PATH: %w", err)
		}
	}
	out, err := exec.Command(goCmd, "env", "GOVERSION").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return result, fmt.Errorf("%s env GOVERSION: %w\n%s", goCmd, err, stderr)
	}
	goVersion := strings.TrimSpace(string(out))
	sum := sha256.Sum256(checkerSource)
	layer, err := ctx.Layers.Layer(LayerName)
	if err != nil {
		return result, fmt.Errorf("creating layer %s: %w", LayerName, err)
	}
	lc := libpak.NewLayerContributor("health check", map[string]any{"checker-sha256": hex.EncodeToString(sum[:]), "go": goVersion},
		libcnb.LayerTypes{Launch: true, Cache: true}, b.Logger)
	err = lc.Contribute(&layer, func(l *libcnb.Layer) error {
		b.Logger.Bodyf("Compiling the checker with %s (%s); the layer is cached, so later builds reuse it", goVersion, goCmd)
		start := time.Now()
		if err := compile(goCmd, b.GoCache, l.Path, ctx.TargetInfo.Arch); err != nil {
			return err
		}
		b.Logger.Bodyf("Compiled in %.1fs", time.Since(start).Seconds())
		return nil
	})
	if err != nil {
		return result, err
	}
	layer.LaunchEnvironment.Default("HEALTHCHECK_PATH", path)
	result.Layers = append(result.Layers, layer)
	cmd := filepath.Join(layer.Path, "bin", "health-check")
	result.Processes = append(result.Processes, libcnb.Process{Type: ProcessType, Command: []string{cmd}})
	b.Logger.Bodyf("Process %s: %s (GET http://127.0.0.1:$PORT%s; HEALTHCHECK_PATH overrides the path)", ProcessType, cmd, path)
	return result, nil
}

// compile builds the checker statically into dir/bin/health-check for arch
// (default: the build's), with the build image's Go and nothing downloaded;
// goCache "" is a temporary GOCACHE.
func compile(goCmd, goCache, dir, arch string) error {
	src, err := os.MkdirTemp("", "health-check-src-")
	if err != nil {
		return fmt.Errorf("compiling the health check: %w", err)
	}
	defer os.RemoveAll(src)
	files := map[string][]byte{"main.go": checkerSource, "go.mod": []byte("module distill/health-check\n\ngo 1.21\n")}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			return fmt.Errorf("compiling the health check: %w", err)
		}
	}
	if goCache == "" {
		goCache = filepath.Join(src, "cache")
	}
	out := filepath.Join(dir, "bin", "health-check")
	cmd := exec.Command(goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=", "GOCACHE="+goCache)
	if arch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+arch)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling the health check (%s build): %w\n%s", goCmd, err, msg)
	}
	return nil
}
