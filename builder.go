// Package distill is the builder the distill binary carries: builder.toml, the
// stack definitions and the descriptors of its buildpacks and extensions as
// embedded files, and each buildpack's and extension's main function compiled
// in. The binary is a multi-call program, the way the CNB lifecycle is one
// binary behind its phase links: installed as a module's bin/build (or
// bin/generate) with bin/detect linked to it, it runs that module.
package distill

import (
	"embed"
	"io/fs"
	"path/filepath"

	cacerts "github.com/distill-build/distill/buildpacks/ca-certificates"
	golang "github.com/distill-build/distill/buildpacks/go"
	healthcheck "github.com/distill-build/distill/buildpacks/health-check"
	"github.com/distill-build/distill/buildpacks/node"
	"github.com/distill-build/distill/buildpacks/python"
	runstatic "github.com/distill-build/distill/extensions/run-static"
	"github.com/distill-build/distill/internal/buildpack"
)

//go:embed builder.toml stacks/*.toml buildpacks/*/buildpack.toml extensions/*/extension.toml
var files embed.FS

// BuilderFiles is the builder as files: builder.toml at the root (its
// buildpack and extension URIs are directories of this tree), stacks/*.toml,
// buildpacks/<name>/buildpack.toml and extensions/<name>/extension.toml.
func BuilderFiles() fs.FS { return files }

// mains are the buildpacks and extensions compiled into this binary, by id.
var mains = map[string]func(){
	"distill/ca-certificates": cacerts.Main,
	"distill/go":              golang.Main,
	"distill/health-check":    healthcheck.Main,
	"distill/node":            node.Main,
	"distill/python":          python.Main,
	"distill/run-static":      runstatic.Main,
}

// Runs reports whether this binary runs the buildpack or extension id.
func Runs(id string) bool { return mains[id] != nil }

// ModuleMain returns the main function of the module this binary was invoked
// as: argv0 is <module dir>/bin/{detect,build,generate} and the module
// directory's buildpack.toml (or extension.toml) names a module compiled in.
// It returns nil for any other argv0 (the distill command line).
func ModuleMain(argv0 string) func() {
	switch filepath.Base(argv0) {
	case "detect", "build", "generate":
	default:
		return nil
	}
	bin := filepath.Dir(argv0)
	if filepath.Base(bin) != "bin" {
		return nil
	}
	d, err := buildpack.ReadDescriptor(filepath.Dir(bin))
	if err != nil {
		return nil
	}
	return mains[d.Info().ID]
}
