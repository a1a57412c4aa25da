// Package gocompile compiles the small programs distill ships as Go source
// inside its buildpacks (go:embed) — the health checker, the static file
// server — into static binaries in a CNB launch layer, with the build image's
// Go. The layer is cached by the source's SHA-256 and the Go version, so a
// program is compiled once per builder. Programs use the standard library
// only: nothing is downloaded.
package gocompile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

// Program is one single-file Go program (package main, standard library only).
type Program struct {
	Name   string // the binary's name, bin/<Name> in the layer: "health-check"
	Source []byte // its main.go
}

// Compiler compiles Programs with one go command.
type Compiler struct {
	// Go is the go command; "" is go on PATH (the build image's).
	Go string
	// GoCache is the GOCACHE to compile with; "" is a temporary one.
	GoCache string
	Logger  log.Logger
}

// Layer contributes the launch + cache layer name holding bin/<p.Name>,
// compiled statically for arch ("" is the build's), and reused while p's source
// and the Go version stay the same. It returns the layer (for the build result)
// and the binary's path. Errors name the go command and carry its output.
func (c Compiler) Layer(ctx context.Context, layers libcnb.Layers, name string, p Program, arch string) (libcnb.Layer, string, error) {
	if c.Logger == nil {
		c.Logger = log.NewPaketoLogger(os.Stdout)
	}
	goCmd := c.Go
	if goCmd == "" {
		var err error
		if goCmd, err = exec.LookPath("go"); err != nil {
			return libcnb.Layer{}, "", fmt.Errorf("%s is compiled with the build image's Go, and there is none on PATH: %w", p.Name, err)
		}
	}
	goVersion, err := version(ctx, goCmd)
	if err != nil {
		return libcnb.Layer{}, "", err
	}
	layer, err := layers.Layer(name)
	if err != nil {
		return libcnb.Layer{}, "", fmt.Errorf("creating layer %s: %w", name, err)
	}
	sum := sha256.Sum256(p.Source)
	lc := libpak.NewLayerContributor(p.Name, map[string]any{"source-sha256": hex.EncodeToString(sum[:]), "go": goVersion},
		libcnb.LayerTypes{Launch: true, Cache: true}, c.Logger)
	bin := filepath.Join(layer.Path, "bin", p.Name)
	err = lc.Contribute(&layer, func(l *libcnb.Layer) error {
		c.Logger.Bodyf("Compiling %s with %s (%s); the layer is cached, so later builds reuse it", p.Name, goVersion, goCmd)
		start := time.Now()
		if err := c.compile(ctx, goCmd, p, filepath.Join(l.Path, "bin", p.Name), arch); err != nil {
			return err
		}
		c.Logger.Bodyf("Compiled in %.1fs", time.Since(start).Seconds())
		return nil
	})
	if err != nil {
		return libcnb.Layer{}, "", err
	}
	return layer, bin, nil
}

// version is `go env GOVERSION` ("go1.24.4").
func version(ctx context.Context, goCmd string) (string, error) {
	out, err := exec.CommandContext(ctx, goCmd, "env", "GOVERSION").Output()
	if err != nil {
		var stderr []byte
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		return "", fmt.Errorf("%s env GOVERSION: %w\n%s", goCmd, err, stderr)
	}
	return strings.TrimSpace(string(out)), nil
}

// compile builds p into out: CGO_ENABLED=0, stripped, -trimpath, the local
// toolchain only (GOTOOLCHAIN=local), GOARCH=arch when set.
func (c Compiler) compile(ctx context.Context, goCmd string, p Program, out, arch string) error {
	src, err := os.MkdirTemp("", p.Name+"-src-")
	if err != nil {
		return fmt.Errorf("compiling %s: %w", p.Name, err)
	}
	defer os.RemoveAll(src)
	files := map[string][]byte{"main.go": p.Source, "go.mod": []byte("module distill/" + p.Name + "\n\ngo 1.21\n")}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			return fmt.Errorf("compiling %s: %w", p.Name, err)
		}
	}
	goCache := c.GoCache
	if goCache == "" {
		goCache = filepath.Join(src, "cache")
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=", "GOCACHE="+goCache)
	if arch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+arch)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compiling %s (%s build): %w\n%s", p.Name, goCmd, err, msg)
	}
	return nil
}
