package lifecycle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/sandbox"
)

// Layout says where a build's directories live and how buildpacks reach
// them. The zero value stages them in a fresh temporary directory that the
// runner mounts at the spec's paths (/workspace, /layers, /platform,
// /cnb/...): the layout of a runner that starts containers (sandbox.Runc).
type Layout struct {
	// Root, when set, makes the build use <Root>/workspace, <Root>/layers and
	// <Root>/platform themselves, where buildpacks see them: they must be
	// directories the CNB user can write, and their contents are removed at
	// the start and at the end of the build. Plan, output and run.toml live in
	// a temporary directory and buildpacks run from their own directories;
	// every path reaches the runner as an identity mount (Source ==
	// Destination), which is all sandbox.Direct can honour.
	Root string
}

// InPlace is the layout of a driver that runs inside the build image as the
// CNB user: the image's own /workspace, /layers and /platform.
var InPlace = Layout{Root: "/"}

// checkApp refuses an app directory that an in-place build would empty or
// copy into itself. app is an absolute path.
func (l Layout) checkApp(app string) error {
	if l.Root == "" {
		return nil
	}
	for _, name := range []string{"workspace", "layers", "platform"} {
		d := filepath.Join(l.Root, name)
		if within(app, d) || within(d, app) {
			return fmt.Errorf("the app directory %s overlaps %s, which an in-place build empties: copy the app elsewhere", app, d)
		}
	}
	return nil
}

// within reports whether p is dir or below it (both clean and absolute).
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// dirSet is one view of a build's directories and files.
type dirSet struct {
	app, layers, platform, plan, output, runTOML string
}

// workDirs are the directories of one build: host is where the driver reads
// and writes them, box where buildpacks see them. modules is where buildpacks
// see the modules (cnbDir), or "" when they run from their own directories.
type workDirs struct {
	root      string // the driver's scratch directory (plan, staging, sbom), removed at the end
	host, box dirSet
	modules   string
	inPlace   []string // directories used in place, emptied at the end
}

// newWorkDirs creates the directories of one build in layout l, handing the
// ones buildpacks write to uid:gid.
func newWorkDirs(l Layout, uid, gid int) (d *workDirs, err error) {
	root, err := os.MkdirTemp("", "distill-build-*")
	if err != nil {
		return nil, fmt.Errorf("creating the build's directory: %w", err)
	}
	d = &workDirs{root: root}
	defer func() {
		if err != nil {
			d.remove()
		}
	}()
	d.host = dirSet{plan: filepath.Join(root, "plan"), output: filepath.Join(root, "output"), runTOML: filepath.Join(root, "run.toml")}
	if l.Root == "" {
		d.host.app, d.host.layers, d.host.platform = filepath.Join(root, "workspace"), filepath.Join(root, "layers"), filepath.Join(root, "platform")
		d.box = dirSet{app: AppDir, layers: LayersDir, platform: PlatformDir, plan: planDir, output: outputDir, runTOML: runTOMLPath}
		d.modules = cnbDir
	} else {
		d.host.app, d.host.layers, d.host.platform = filepath.Join(l.Root, AppDir), filepath.Join(l.Root, LayersDir), filepath.Join(l.Root, PlatformDir)
		for _, p := range []string{d.host.app, d.host.layers, d.host.platform} {
			if err := emptyInPlace(p); err != nil {
				return d, err
			}
			d.inPlace = append(d.inPlace, p)
		}
		d.box = d.host
	}
	h := d.host
	for _, p := range []string{h.app, h.layers, h.platform, h.plan, h.output, filepath.Join(h.platform, "env"), filepath.Join(h.platform, "bindings")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return d, fmt.Errorf("creating the build's directory: %w", err)
		}
	}
	for _, p := range []string{h.layers, h.plan, h.output} {
		if err := os.Chown(p, uid, gid); err != nil {
			return d, fmt.Errorf("handing %s to the CNB user: %w", p, err)
		}
	}
	return d, nil
}

// emptyInPlace checks that dir is a directory this process can write and
// removes what it holds.
func emptyInPlace(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = errors.New("not a directory")
	}
	if err == nil {
		err = unix.Access(dir, unix.W_OK)
	}
	if err != nil {
		return fmt.Errorf("building in place needs %s, a directory the CNB user can write (pack's build images have it): %w", dir, err)
	}
	if err := emptyDir(dir); err != nil {
		return fmt.Errorf("emptying %s for an in-place build: %w", dir, err)
	}
	return nil
}

// emptyDir removes everything in dir (see removeAll).
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := removeAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// removeAll is os.RemoveAll that, when that fails, makes the directories
// below p writable and tries again: a user who is not root cannot otherwise
// remove read-only trees it owns (a Go module cache).
func removeAll(p string) error {
	if os.RemoveAll(p) == nil {
		return nil
	}
	_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}

// remove deletes the build's scratch directory and empties the directories
// used in place.
func (d *workDirs) remove() {
	for _, p := range d.inPlace {
		_ = emptyDir(p)
	}
	_ = removeAll(d.root)
}

// module is where buildpacks see a buildpack's or extension's directory.
func (d *workDirs) module(m *buildpack.Descriptor) string {
	if d.modules == "" {
		return m.Dir
	}
	kind := "buildpacks"
	if m.IsExtension() {
		kind = "extensions"
	}
	return filepath.Join(d.modules, kind, buildpack.EscapedID(m.Info().ID), m.Info().Version)
}

// mountsFor maps every host directory of the build, and the modules, to
// where buildpacks see it. In place, each is an identity mount.
func (d *workDirs) mountsFor(m Modules) []sandbox.Mount {
	h, b := d.host, d.box
	mounts := []sandbox.Mount{
		{Source: h.app, Destination: b.app},
		{Source: h.layers, Destination: b.layers},
		{Source: h.platform, Destination: b.platform, ReadOnly: true},
		{Source: h.plan, Destination: b.plan},
		{Source: h.output, Destination: b.output},
	}
	if _, err := os.Stat(h.runTOML); err == nil {
		mounts = append(mounts, sandbox.Mount{Source: h.runTOML, Destination: b.runTOML, ReadOnly: true})
	}
	for _, mod := range append(append([]*buildpack.Descriptor{}, m.Buildpacks...), m.Extensions...) {
		mounts = append(mounts, sandbox.Mount{Source: mod.Dir, Destination: d.module(mod), ReadOnly: true})
	}
	return mounts
}
