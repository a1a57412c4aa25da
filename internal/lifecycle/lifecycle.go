// Package lifecycle is the platform side of the CNB spec: it takes an app
// through prepare, detect, generate, restore, build, export and cache, one file
// per phase, running buildpacks through a sandbox.Runner and assembling the
// image with go-containerregistry.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/sandbox"
)

// The CNB API versions distill speaks: as a platform it lays out and drives a
// build as Platform API PlatformAPI describes (run.toml, CNB_TARGET_*,
// image extensions), and it runs buildpacks of Buildpack API BuildpackAPI
// (buildpacks/spec, platform.md and buildpack.md at those versions).
const (
	PlatformAPI  = "0.13"
	BuildpackAPI = "0.10"
)

// Paths inside the build container, as the CNB spec names them; the exported
// image always uses AppDir and LayersDir.
const (
	AppDir      = "/workspace"
	LayersDir   = "/layers"
	PlatformDir = "/platform"
	cnbDir      = "/cnb"
	planDir     = "/cnb/plan"
	outputDir   = "/cnb/output"
	runTOMLPath = "/cnb/run.toml"
	// targetRootDir is where buildpacks see the target root (Target.Root)
	// in a container; in place, it keeps its host path.
	targetRootDir = "/cnb/target-root"
)

// Target is the platform a build is for, given to every buildpack as
// CNB_TARGET_OS, CNB_TARGET_ARCH, CNB_TARGET_ARCH_VARIANT (when set),
// CNB_TARGET_DISTRO_NAME and CNB_TARGET_DISTRO_VERSION (Buildpack API 0.10,
// buildpacks/spec buildpack.md "Build: Provided by the Lifecycle"). OS and
// Arch are GOOS/GOARCH values (linux, amd64, arm64), ArchVariant the OCI
// variant (v8). Root, when set, is the host directory of the target root
// (the build image's target-specific packages for Arch, stack.Images
// TargetRoot): buildpacks get it read-only, named by DISTILL_TARGET_ROOT
// (buildpack.EnvTargetRoot).
type Target struct {
	OS, Arch, ArchVariant, DistroName, DistroVersion string
	Root                                             string
}

// DefaultTarget is linux on the driver's architecture, Debian 13.
func DefaultTarget() Target {
	return TargetFor("linux", runtime.GOARCH)
}

// TargetFor is the Debian 13 target os/arch (GOOS/GOARCH), with the variant
// OCI image indexes give that architecture (arm64: v8).
func TargetFor(os, arch string) Target {
	t := Target{OS: os, Arch: arch, DistroName: "debian", DistroVersion: "13"}
	if arch == "arm64" {
		t.ArchVariant = "v8"
	}
	return t
}

// env is the target's environment; root is where buildpacks see t.Root.
func (t Target) env(root string) []string {
	env := []string{"CNB_TARGET_OS=" + t.OS, "CNB_TARGET_ARCH=" + t.Arch}
	if t.Root != "" {
		env = append(env, buildpack.EnvTargetRoot+"="+root)
	}
	if t.ArchVariant != "" {
		env = append(env, "CNB_TARGET_ARCH_VARIANT="+t.ArchVariant)
	}
	return append(env, "CNB_TARGET_DISTRO_NAME="+t.DistroName, "CNB_TARGET_DISTRO_VERSION="+t.DistroVersion)
}

// Modules are the buildpacks and extensions of a builder, by id.
type Modules struct {
	Buildpacks []*buildpack.Descriptor
	Extensions []*buildpack.Descriptor
}

// Lookup finds a buildpack or extension by id and, when given, version.
func (m Modules) Lookup(ref buildpack.Ref, extension bool) (*buildpack.Descriptor, error) {
	list := m.Buildpacks
	kind := "buildpack"
	if extension {
		list, kind = m.Extensions, "extension"
	}
	for _, d := range list {
		if d.Info().ID == ref.ID && (ref.Version == "" || d.Info().Version == ref.Version) {
			return d, nil
		}
	}
	return nil, fmt.Errorf("order names %s %s, which the builder does not have", kind, ref.Key())
}

// container runs the binaries of buildpacks and extensions in the build
// image, the way the spec lays it out: the app as the working directory, the
// platform's mounts, the CNB user, the target's env. Paths buildpacks see
// come from dirs.box and dirs.module, never from the spec's constants, so an
// in-place build (Layout) passes its own.
type container struct {
	runner   sandbox.Runner
	dirs     *workDirs
	mods     Modules
	env      buildpack.Env // what every module's environment starts from
	target   Target
	uid, gid int
}

// exec runs <module>/bin/<name> with env, its output going to out.
func (c *container) exec(ctx context.Context, d *buildpack.Descriptor, name string, env buildpack.Env, out io.Writer) error {
	return c.runner.Run(ctx, sandbox.Process{
		Args: []string{filepath.Join(c.dirs.module(d), "bin", name)}, Env: append(env.List(), c.target.env(c.targetRoot())...),
		Dir: c.dirs.box.app, Home: env["HOME"], UID: c.uid, GID: c.gid, Mounts: c.mounts(), Stdout: out, Stderr: out,
	})
}

// mounts are the build's mounts (workDirs.mountsFor) and the target root,
// read-only.
func (c *container) mounts() []sandbox.Mount {
	m := c.dirs.mountsFor(c.mods)
	if c.target.Root != "" {
		m = append(m, sandbox.Mount{Source: c.target.Root, Destination: c.targetRoot(), ReadOnly: true})
	}
	return m
}

// targetRoot is where buildpacks see the target root: targetRootDir in a
// container (the modules are mounted under cnbDir); in place, where every
// mount is an identity mount, its host path.
func (c *container) targetRoot() string {
	if c.dirs.modules == "" {
		return c.target.Root
	}
	return targetRootDir
}

// ModuleError is a buildpack's or an extension's bin/<Binary> that failed.
// With an exit status, the module has printed why, above: the error says so
// and names no path inside the container, only, when they differ, where the
// app directory the module saw (BoxApp, /workspace) is on this machine (App).
type ModuleError struct {
	Kind, Key, Binary string // "buildpack", "distill/node@1.0.0", "build"
	Code              int    // the exit status, -1 when it did not exit
	Err               error
	App, BoxApp       string // the user's app directory and the module's view of it
}

func (e *ModuleError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("%s %s failed in bin/%s: %v", e.Kind, e.Key, e.Binary, e.Err)
	}
	msg := fmt.Sprintf("%s %s failed in bin/%s (exit status %d): its output above says why", e.Kind, e.Key, e.Binary, e.Code)
	if e.App != "" && e.App != e.BoxApp {
		msg += fmt.Sprintf(" (its %s is the app directory %s)", e.BoxApp, e.App)
	}
	return msg
}

func (e *ModuleError) Unwrap() error { return e.Err }

// moduleFailed is the *ModuleError of d's bin/<name>.
func moduleFailed(d *buildpack.Descriptor, name string, err error) error {
	kind := "buildpack"
	if d.IsExtension() {
		kind = "extension"
	}
	e := &ModuleError{Kind: kind, Key: d.Key(), Binary: name, Code: -1, Err: err}
	var exit *sandbox.ExitError
	if errors.As(err, &exit) {
		e.Code = exit.Code
	}
	return e
}

// inApp names, on a *ModuleError in err, the user's app directory app and
// the module's view of it (boxApp); other errors pass unchanged.
func inApp(err error, app, boxApp string) error {
	var me *ModuleError
	if errors.As(err, &me) {
		me.App, me.BoxApp = app, boxApp
	}
	return err
}

// phase prints a pack-like phase header.
func phase(w io.Writer, name string, detail string) {
	if detail != "" {
		fmt.Fprintf(w, "===> %s  %s\n", name, detail)
		return
	}
	fmt.Fprintf(w, "===> %s\n", name)
}
