// Package healthcheck is the distill/health-check buildpack: with
// BP_HEALTHCHECK=true it compiles the checker in ./checker with the build
// image's Go into a launch layer and declares a health-check process, so an
// image with no shell or curl can still be probed (podman healthcheck,
// Kubernetes exec probes). It is compiled into the distill binary, which a
// builder installs as bin/build with bin/detect a symlink to it.
package healthcheck

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/gocompile"
)

// checkerSource is the checker's program, compiled at build time.
//
//go:embed checker/main.go
var checkerSource []byte

// checker is the program in the health-check layer's bin/health-check.
var checker = gocompile.Program{Name: "health-check", Source: checkerSource}

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
	compiler := gocompile.Compiler{Go: b.Go, GoCache: b.GoCache, Logger: b.Logger}
	layer, cmd, err := compiler.Layer(context.Background(), ctx.Layers, LayerName, checker, ctx.TargetInfo.Arch)
	if err != nil {
		return result, err
	}
	layer.LaunchEnvironment.Default("HEALTHCHECK_PATH", path)
	result.Layers = append(result.Layers, layer)
	result.Processes = append(result.Processes, libcnb.Process{Type: ProcessType, Command: []string{cmd}})
	b.Logger.Bodyf("Process %s: %s (GET http://127.0.0.1:$PORT%s; HEALTHCHECK_PATH overrides the path)", ProcessType, cmd, path)
	return result, nil
}
