// Package lifecycle is the platform side of the CNB spec: it takes an app
// through prepare, detect, generate, restore, build, export and cache, one file
// per phase, running buildpacks through a sandbox.Runner and assembling the
// image with go-containerregistry.
package lifecycle

import (
	"context"
	"fmt"
	"io"
	"os"
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

// Paths inside the build container, as the CNB spec names them.
const (
	AppDir      = "/workspace"
	LayersDir   = "/layers"
	PlatformDir = "/platform"
	cnbDir      = "/cnb"
	planDir     = "/cnb/plan"
	outputDir   = "/cnb/output"
	runTOMLPath = "/cnb/run.toml"
)

// Target is the platform a build is for (CNB_TARGET_*).
type Target struct {
	OS, Arch, DistroName, DistroVersion string
}

// DefaultTarget is linux on the driver's architecture, Debian 13.
func DefaultTarget() Target {
	return Target{OS: "linux", Arch: runtime.GOARCH, DistroName: "debian", DistroVersion: "13"}
}

func (t Target) env() []string {
	return []string{
		"CNB_TARGET_OS=" + t.OS, "CNB_TARGET_ARCH=" + t.Arch,
		"CNB_TARGET_DISTRO_NAME=" + t.DistroName, "CNB_TARGET_DISTRO_VERSION=" + t.DistroVersion,
	}
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
// platform's mounts, the CNB user, the target's env.
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
		Args: []string{filepath.Join(moduleDir(d), "bin", name)}, Env: append(env.List(), c.target.env()...),
		Dir: AppDir, Home: env["HOME"], UID: c.uid, GID: c.gid, Mounts: c.dirs.mountsFor(c.mods), Stdout: out, Stderr: out,
	})
}

func (d *workDirs) mountsFor(m Modules) []sandbox.Mount {
	mounts := []sandbox.Mount{
		{Source: d.app, Destination: AppDir},
		{Source: d.layers, Destination: LayersDir},
		{Source: d.platform, Destination: PlatformDir, ReadOnly: true},
		{Source: d.plan, Destination: planDir},
		{Source: d.output, Destination: outputDir},
	}
	if d.runTOML != "" {
		mounts = append(mounts, sandbox.Mount{Source: d.runTOML, Destination: runTOMLPath, ReadOnly: true})
	}
	for _, bp := range m.Buildpacks {
		mounts = append(mounts, sandbox.Mount{Source: bp.Dir, Destination: moduleDir(bp), ReadOnly: true})
	}
	for _, ext := range m.Extensions {
		mounts = append(mounts, sandbox.Mount{Source: ext.Dir, Destination: moduleDir(ext), ReadOnly: true})
	}
	return mounts
}

// moduleDir is where a buildpack or extension lives in the build container.
func moduleDir(d *buildpack.Descriptor) string {
	kind := "buildpacks"
	if d.IsExtension() {
		kind = "extensions"
	}
	return filepath.Join(cnbDir, kind, buildpack.EscapedID(d.Info().ID), d.Info().Version)
}

// workDirs are the host directories of one build.
type workDirs struct {
	root, app, layers, platform, plan, output, runTOML string
}

func newWorkDirs(uid, gid int) (*workDirs, error) {
	root, err := os.MkdirTemp("", "distill-build-*")
	if err != nil {
		return nil, err
	}
	d := &workDirs{
		root: root, app: filepath.Join(root, "workspace"), layers: filepath.Join(root, "layers"),
		platform: filepath.Join(root, "platform"), plan: filepath.Join(root, "plan"), output: filepath.Join(root, "output"),
	}
	for _, p := range []string{d.app, d.layers, d.platform, d.plan, d.output, filepath.Join(d.platform, "env"), filepath.Join(d.platform, "bindings")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, err
		}
	}
	for _, p := range []string{d.layers, d.plan, d.output} {
		if err := os.Chown(p, uid, gid); err != nil {
			return nil, fmt.Errorf("handing %s to the CNB user: %w", p, err)
		}
	}
	return d, nil
}

func (d *workDirs) remove() { os.RemoveAll(d.root) }

// phase prints a pack-like phase header.
func phase(w io.Writer, name string, detail string) {
	if detail != "" {
		fmt.Fprintf(w, "===> %s  %s\n", name, detail)
		return
	}
	fmt.Fprintf(w, "===> %s\n", name)
}
