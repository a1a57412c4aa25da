package lifecycle

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/sandbox"
)

// ExtensionsOptIn is set to "true" for every buildpack and extension unless
// the user sets it: distill's run-static extension detects only then.
const ExtensionsOptIn = "BP_RUN_IMAGE_EXTENSIONS"

// Binding is a CNB service binding placed at /platform/bindings/<Name>.
type Binding struct {
	Name  string
	Type  string
	Files map[string][]byte
}

// Options configure one build.
type Options struct {
	AppDir string
	// Exclude are absolute paths inside AppDir kept out of the workspace
	// (image outputs, the build cache); .git and project.toml always are.
	Exclude         []string
	Modules         Modules
	Order           buildpack.Order
	OrderExtensions buildpack.Order
	// BuildEnv is the build image's environment (its config Env).
	BuildEnv []string
	Runner   sandbox.Runner
	// Layout is where the build's directories live: the zero value mounts
	// them at the spec's paths (sandbox.Runc); InPlace uses the build image's
	// own, for a runner without mounts (sandbox.Direct).
	Layout Layout
	// UID and GID are the CNB user of the build image.
	UID, GID int
	// Env is the user's build environment (--env, project.toml, builder.toml [[build.env]]).
	Env      map[string]string
	Bindings []Binding
	// RunImages lists the builder's run images, the default first.
	RunImages []string
	// ResolveImage fetches a run image.
	ResolveImage func(ctx context.Context, ref string) (v1.Image, error)
	// Cache holds the layers and blobs of earlier builds (--clear-cache:
	// the platform empties it first).
	Cache *Cache
	// Compression of the layers the build adds (default zstd).
	Compression image.Compression
	Target      Target
	Log         io.Writer
}

// Result is a built image, not yet written anywhere.
type Result struct {
	Image     v1.Image
	RunImage  string
	Layers    []ExportedLayer
	Processes []buildpack.Process
	Restored  []string
	Duration  time.Duration

	dirs  *workDirs
	save  func() error
	cache *Cache
}

// Commit saves the cache; call it once the image has been written.
func (r *Result) Commit() error {
	if r.save == nil {
		return nil
	}
	return r.save()
}

// Close removes the build's working directories (the image's layers are
// staged there: write the image before closing). Without a Commit, the
// restored cache layers go back to the cache untouched by this build's outcome.
func (r *Result) Close() {
	if r.cache != nil {
		r.cache.Return()
	}
	if r.dirs != nil {
		r.dirs.remove()
	}
}

// Build runs prepare, detect, generate, restore, build and export for one
// app. On error nothing is left behind; on success the caller writes
// Result.Image, then calls Commit and Close.
func Build(ctx context.Context, o Options) (res *Result, err error) {
	start := time.Now()
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Target.OS == "" {
		o.Target = DefaultTarget()
	}
	dirs, env, err := prepare(o)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			dirs.remove()
		}
	}()

	box := &container{runner: o.Runner, dirs: dirs, mods: o.Modules, env: env, target: o.Target, uid: o.UID, gid: o.GID}
	app, err := filepath.Abs(o.AppDir)
	if err != nil {
		return nil, err
	}
	detected, runRef, err := detectAndGenerate(ctx, box, o)
	if err != nil {
		return nil, inApp(err, app, dirs.box.app)
	}

	cache := o.Cache
	if cache == nil {
		cache = &Cache{Dir: filepath.Join(dirs.root, "no-cache")}
	}
	previous := cache.previous()
	phase(o.Log, "RESTORING", "")
	defer func() {
		if err != nil {
			cache.Return()
		}
	}()
	restored, err := cache.Restore(detected.Group, dirs.host.layers, o.Log)
	if err != nil {
		return nil, fmt.Errorf("restoring the cache %s: %w (use --clear-cache to start afresh)", cache.Dir, err)
	}

	phase(o.Log, "BUILDING", "")
	bp := &builderPhase{container: box, log: o.Log}
	built, err := bp.Build(ctx, detected)
	if err != nil {
		return nil, inApp(err, app, dirs.box.app)
	}

	phase(o.Log, "EXPORTING", "onto "+runRef)
	run, err := o.ResolveImage(ctx, runRef)
	if err != nil {
		return nil, fmt.Errorf("fetching run image %s: %w", runRef, err)
	}
	if o.Compression == "" {
		o.Compression = image.Zstd
	}
	exp := &exporter{dirs: dirs, uid: o.UID, gid: o.GID, previous: previous, blobs: cache.blobDir(), compression: o.Compression}
	img, layers, err := exp.Export(run, runRef, built)
	if err != nil {
		return nil, err
	}
	return &Result{
		Image: img, RunImage: runRef, Layers: layers, Processes: built.Processes, Restored: restored,
		Duration: time.Since(start), dirs: dirs,
		save: func() error {
			if o.Cache == nil {
				return nil
			}
			return o.Cache.Save(built, layers)
		},
		cache: o.Cache,
	}, nil
}

// detectAndGenerate runs detect and, when extensions pass, generate: the
// groups that passed and the run image (o.RunImages[0] unless an extension
// switched it).
func detectAndGenerate(ctx context.Context, box *container, o Options) (*DetectResult, string, error) {
	phase(o.Log, "DETECTING", "")
	det := &detector{container: box}
	detected, err := det.Detect(ctx, o.Order, o.OrderExtensions)
	if err != nil {
		return nil, "", err
	}
	for _, d := range detected.Extensions {
		fmt.Fprintf(o.Log, "%-32s %s (extension)\n", d.Info().ID, d.Info().Version)
	}
	for _, d := range detected.Group {
		fmt.Fprintf(o.Log, "%-32s %s\n", d.Info().ID, d.Info().Version)
	}
	runRef := o.RunImages[0]
	if len(detected.Extensions) == 0 {
		return detected, runRef, nil
	}
	phase(o.Log, "GENERATING", "")
	gen := &generator{container: box, log: o.Log}
	ref, err := gen.Generate(ctx, detected.Extensions)
	if err != nil {
		return nil, "", err
	}
	if ref != "" {
		runRef = ref
		fmt.Fprintf(o.Log, "Run image switched to %s\n", runRef)
	}
	return detected, runRef, nil
}

// prepare creates the build's directories in o.Layout, copies the app into
// the workspace, writes the platform directory and run.toml, and returns the
// environment every buildpack starts from: the build image's plus the
// user's (clear-env = false). On error nothing is left behind.
func prepare(o Options) (_ *workDirs, env buildpack.Env, err error) {
	if len(o.RunImages) == 0 {
		return nil, nil, fmt.Errorf("the builder names no run image")
	}
	app, err := filepath.Abs(o.AppDir)
	if err != nil {
		return nil, nil, err
	}
	if err := o.Layout.checkApp(app); err != nil {
		return nil, nil, err
	}
	project, err := ReadProject(app)
	if err != nil {
		return nil, nil, err
	}
	d, err := newWorkDirs(o.Layout, o.UID, o.GID)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			d.remove()
		}
	}()
	if err := copyApp(app, d.host.app, project, o.Exclude, o.UID, o.GID); err != nil {
		return nil, nil, fmt.Errorf("copying %s into the workspace: %w", app, err)
	}
	userEnv := map[string]string{}
	for k, v := range project.Env {
		userEnv[k] = v
	}
	for k, v := range o.Env {
		userEnv[k] = v
	}
	if err := writePlatform(d.host.platform, userEnv, o.Bindings); err != nil {
		return nil, nil, err
	}
	if err := writeRunTOML(d.host.runTOML, o.RunImages); err != nil {
		return nil, nil, fmt.Errorf("writing run.toml: %w", err)
	}
	env = buildpack.NewEnv(o.BuildEnv)
	for k, v := range userEnv {
		env[k] = v
	}
	// distill applies run image extensions: tell the extensions that wait
	// for a platform to say so (the lifecycle's creator refuses them).
	if _, ok := env[ExtensionsOptIn]; !ok {
		env[ExtensionsOptIn] = "true"
	}
	return d, env, nil
}

// writePlatform writes /platform/env/<NAME> files and the service bindings.
func writePlatform(dir string, env map[string]string, bindings []Binding) error {
	for k, v := range env {
		if err := CheckEnvName(k); err != nil {
			return fmt.Errorf("build env: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "env", k), []byte(v), 0o644); err != nil {
			return fmt.Errorf("writing platform env %s: %w", k, err)
		}
	}
	for _, b := range bindings {
		for _, name := range append([]string{b.Name}, slices.Collect(maps.Keys(b.Files))...) {
			if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
				return fmt.Errorf("service binding %q: %q is not a file name", b.Name, name)
			}
		}
		bd := filepath.Join(dir, "bindings", b.Name)
		if err := os.MkdirAll(bd, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(bd, "type"), []byte(b.Type), 0o644); err != nil {
			return err
		}
		for name, data := range b.Files {
			if err := os.WriteFile(filepath.Join(bd, name), data, 0o644); err != nil {
				return fmt.Errorf("writing binding %s: %w", b.Name, err)
			}
		}
	}
	return nil
}

type runTOML struct {
	Images []runTOMLImage `toml:"images"`
}

type runTOMLImage struct {
	Image string `toml:"image"`
}

func writeRunTOML(p string, images []string) error {
	var rt runTOML
	for _, i := range images {
		rt.Images = append(rt.Images, runTOMLImage{Image: i})
	}
	return buildpack.WriteTOML(p, rt)
}
