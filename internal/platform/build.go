// Package platform is distill's CNB platform: it wires a builder, its images,
// the sandbox, the lifecycle phases and the image targets into one build.
package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/budget"
	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/cacheprune"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/lifecycle"
	"github.com/distill-build/distill/internal/report"
)

// BuildOptions configure Build.
type BuildOptions struct {
	AppDir string
	// Builder is "" for the builder this binary carries (BuilderFiles run by
	// Binary), the path of a builder.toml, or a builder image: a reference
	// (local store, daemon, registry) or oci:DIR.
	Builder      string
	BuilderFiles fs.FS
	Binary       *builder.Binary
	// Targets receive the image; all are written or the build fails. Any
	// target inside AppDir stays out of the workspace.
	Targets []image.Target
	// Env is the user's build environment (--env, --env-file).
	Env map[string]string
	// EnvFiles are the --env-file files Env was read from, and Bindings the
	// --binding directories (one binding, or a directory of them). Both hold
	// secrets: any that lies inside AppDir stays out of the workspace, and
	// so out of the image.
	EnvFiles   []string
	Bindings   []string
	CacheDir   string // default: a directory per app under CacheRoot
	ClearCache bool
	// CAFile, when set, becomes a ca-certificates service binding so every
	// tool in the build trusts those CAs (a TLS-intercepting proxy's, say).
	CAFile string
	// CASiteOnly says CAFile is the host's own bundle ($SSL_CERT_FILE or the
	// distribution's), not one the user named: only its certificates that
	// the host's distribution does not ship (DistroCADir) are passed, and no
	// binding when there are none.
	CASiteOnly bool
	// Compression of the layers the build adds (default zstd).
	Compression image.Compression
	// Platforms are the platforms to build for (ParsePlatforms); none is
	// the host's. Each builds once, with its own cache directory.
	Platforms []v1.Platform
	// MaxSize is the size budget (--max-size, e.g. "50MB"); "" takes
	// project.toml's [io.distill.build] max-size, if any. An image over it
	// fails the build before any target is written.
	MaxSize string
	// SBOMOutputDir, when set, receives the image's SBOMs (WriteSBOMs).
	SBOMOutputDir string
	// ReportHTML, when set, is the file that receives the size report as an
	// HTML page with a treemap of the image (report.WriteHTML).
	ReportHTML string
	Log        io.Writer
}

// Build builds the app at o.AppDir into an image per platform of
// o.Platforms, writes them to every target and returns the size reports, one
// per platform in that order. One platform writes its image; several write
// one OCI image index to the targets that hold one (OCI layout, registry)
// and the host platform's image (else the first's) to the others (daemon,
// docker archive). If any step fails nothing is written: targets keep what
// they had and the caches are left as they were.
func Build(ctx context.Context, o BuildOptions) (report.Reports, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	app, err := filepath.Abs(o.AppDir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(app); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("app directory %s does not exist or is not a directory", o.AppDir)
	}
	bud, err := sizeBudget(app, o.MaxSize)
	if err != nil {
		return nil, err
	}
	b, err := LoadBuilder(ctx, o.Builder, o.BuilderFiles, o.Binary, o.Log)
	if err != nil {
		return nil, err
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []v1.Platform{HostPlatform()}
	}
	if o.CacheDir == "" {
		sum := sha256.Sum256([]byte(app))
		o.CacheDir = filepath.Join(CacheRoot(), "cache", hex.EncodeToString(sum[:8]))
	}
	bindings, err := allBindings(o.CAFile, o.CASiteOnly, o.Bindings)
	if err != nil {
		return nil, err
	}
	if len(o.Bindings) > 0 {
		fmt.Fprintf(o.Log, "Service bindings: %s\n", strings.Join(bindingNames(bindings), ", "))
	}
	var results []*lifecycle.Result
	defer func() {
		for _, r := range results {
			r.Close()
		}
	}()
	for _, p := range o.Platforms {
		res, err := buildPlatform(ctx, o, app, b, bindings, p)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	}
	reps, err := write(ctx, results, o, bud)
	var over *budget.ExceededError
	if errors.As(err, &over) {
		// No image is written, but the reports and the page show where the bytes went.
		if o.ReportHTML != "" {
			if herr := writeHTMLReport(ctx, o, over.Report, imageOf(results, over.Report.Digest)); herr != nil {
				return reps, errors.Join(err, herr)
			}
		}
		return reps, err
	}
	if err != nil {
		return nil, err
	}
	main := mainPlatform(o.Platforms)
	if err := writeExtras(ctx, o, reps[main], results[main].Image); err != nil {
		return nil, err
	}
	return reps, nil
}

// buildPlatform runs the lifecycle for platform p: run images for p, the
// build image of the host, CNB_TARGET_* of p, p's own cache directory.
func buildPlatform(ctx context.Context, o BuildOptions, app string, b *builder.Builder, bindings []lifecycle.Binding, p v1.Platform) (*lifecycle.Result, error) {
	multi := len(o.Platforms) > 1
	if multi {
		fmt.Fprintf(o.Log, "===> PLATFORM  %s\n", p)
	}
	// Every image the build may need is resolved, and every stack image
	// built, before the lifecycle starts.
	images, err := ResolveImages(ctx, b, p.Architecture, o.Log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	box, err := newSandbox(ctx, images.BuildImage, b.Config.Build.Image, o.Log)
	if err != nil {
		return nil, err
	}
	target := lifecycle.TargetFor(p.OS, p.Architecture)
	if images.TargetRoot != nil {
		if target.Root, err = unpackCached(ctx, images.TargetRoot, "the target root for "+p.String(), o.Log); err != nil {
			return nil, err
		}
	}
	cacheDir := platformCacheDir(o.CacheDir, p)
	if err := cacheprune.Use(cacheDir); err != nil {
		return nil, err
	}
	cache := &lifecycle.Cache{Dir: cacheDir}
	if o.ClearCache {
		if err := cache.Clear(); err != nil {
			return nil, err
		}
	}
	res, err := lifecycle.Build(ctx, lifecycle.Options{
		AppDir:          app,
		Exclude:         excluded(app, o.CacheDir, o.Targets, append(append(slices.Clone(o.EnvFiles), o.Bindings...), otherCacheDirs(o)...)),
		Modules:         lifecycle.Modules{Buildpacks: b.Buildpacks, Extensions: b.Extensions},
		Order:           b.Config.Order,
		OrderExtensions: b.Config.OrderExtensions,
		BuildEnv:        box.env.List(),
		Runner:          box.runner,
		Layout:          box.layout,
		UID:             box.uid, GID: box.gid,
		Env:          userEnv(b, o.Env),
		Bindings:     bindings,
		RunImages:    images.RunRefs,
		ResolveImage: images.Resolve,
		Cache:        cache,
		Compression:  o.Compression,
		Target:       target,
		Log:          o.Log,
	})
	if err != nil && multi {
		return nil, fmt.Errorf("building for %s: %w", p, err)
	}
	return res, err
}

// otherCacheDirs are the cache directories of o's platforms besides
// o.CacheDir (the host's), kept out of the workspace like it.
func otherCacheDirs(o BuildOptions) []string {
	var dirs []string
	for _, p := range o.Platforms {
		if d := platformCacheDir(o.CacheDir, p); d != o.CacheDir {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// imageOf is the image of the result whose digest is digest, else the
// first result's.
func imageOf(results []*lifecycle.Result, digest string) v1.Image {
	for _, r := range results {
		if d, err := r.Image.Digest(); err == nil && d.String() == digest {
			return r.Image
		}
	}
	return results[0].Image
}

// mainPlatform is the index of the host's platform in platforms, else 0:
// the image a daemon, a docker archive, the SBOMs and the HTML report get.
func mainPlatform(platforms []v1.Platform) int {
	for i, p := range platforms {
		if isHost(p) {
			return i
		}
	}
	return 0
}

// writeExtras writes what the build was asked for besides the image: its
// SBOMs and the HTML size report.
func writeExtras(ctx context.Context, o BuildOptions, rep *report.Report, img v1.Image) error {
	if o.SBOMOutputDir != "" {
		if err := WriteSBOMs(ctx, o.SBOMOutputDir, rep.Digest, img); err != nil {
			return fmt.Errorf("writing the SBOMs to %s: %w", o.SBOMOutputDir, err)
		}
	}
	if o.ReportHTML != "" {
		return writeHTMLReport(ctx, o, rep, img)
	}
	return nil
}

// writeHTMLReport writes rep as the HTML page o.ReportHTML, titled with the
// first target (else the app directory's name).
func writeHTMLReport(ctx context.Context, o BuildOptions, rep *report.Report, img v1.Image) error {
	title, _ := filepath.Abs(o.AppDir)
	title = filepath.Base(title)
	if len(o.Targets) > 0 {
		title = o.Targets[0].String()
	}
	if err := rep.WriteHTMLFile(ctx, o.ReportHTML, img, report.HTMLOptions{Title: title, Reuse: true}); err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "Wrote the size report %s\n", o.ReportHTML)
	return nil
}

// sizeBudget is the budget of flag (--max-size), else of app's project.toml;
// the zero Budget when neither sets one.
func sizeBudget(app, flag string) (budget.Budget, error) {
	if flag != "" {
		return budget.Parse(flag, "--max-size")
	}
	p, err := lifecycle.ReadProject(app)
	if err != nil || p.MaxSize == "" {
		return budget.Budget{}, err
	}
	return budget.Parse(p.MaxSize, filepath.Join(app, "project.toml")+" [io.distill.build] max-size")
}

// write checks every platform's image against the budget, writes them to
// every target (one image, or an image index of all), then saves the caches,
// and reports. Over budget, nothing is written: the error joins the
// *budget.ExceededError of every platform over it, returned with every
// platform's report.
func write(ctx context.Context, results []*lifecycle.Result, o BuildOptions, bud budget.Budget) (report.Reports, error) {
	reps := make(report.Reports, len(results))
	imgs := make([]v1.Image, len(results))
	for i, res := range results {
		rep, err := report.New(res.Image, res.Layers)
		if err != nil {
			return nil, err
		}
		rep.Duration = res.Duration
		if len(results) > 1 {
			rep.Platform = o.Platforms[i].String()
		}
		reps[i], imgs[i] = rep, res.Image
	}
	var over []error
	for i, res := range results {
		names := make([]string, len(res.Layers))
		for j, l := range res.Layers {
			names[j] = report.RowName(l.ID)
		}
		err := budget.Check(ctx, res.Image, reps[i], names, bud)
		var ex *budget.ExceededError
		if err != nil && !errors.As(err, &ex) {
			return nil, err
		}
		if err != nil {
			over = append(over, err)
		}
	}
	if len(over) > 0 {
		return reps, errors.Join(over...)
	}
	all := image.PlatformImages{Platforms: o.Platforms, Images: imgs, Main: mainPlatform(o.Platforms), What: "image"}
	if err := all.WriteAll(ctx, o.Targets, o.Log); err != nil {
		return nil, err
	}
	for i, res := range results {
		if err := res.Commit(); err != nil {
			return nil, fmt.Errorf("saving the build cache %s: %w", platformCacheDir(o.CacheDir, o.Platforms[i]), err)
		}
	}
	return reps, nil
}

// userEnv is the builder's [[build.env]] overridden by the user's --env.
func userEnv(b *builder.Builder, env map[string]string) map[string]string {
	out := map[string]string{}
	for _, e := range b.Config.Build.Env {
		out[e.Name] = e.Value
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// allBindings is the ca-certificates binding of caFile (if any; siteOnly:
// its site CAs only, see BuildOptions.CASiteOnly) and the user's --binding
// directories.
func allBindings(caFile string, siteOnly bool, dirs []string) ([]lifecycle.Binding, error) {
	bindings, err := caBinding(caFile, siteOnly)
	if err != nil {
		return nil, err
	}
	user, err := readBindings(dirs)
	if err != nil {
		return nil, err
	}
	for _, b := range user {
		if len(bindings) > 0 && b.Name == bindings[0].Name {
			return nil, fmt.Errorf("--binding: a binding named %q is also made from --ca-certs; rename the directory or pass --no-ca-certs", b.Name)
		}
	}
	return append(bindings, user...), nil
}

func caBinding(caFile string, siteOnly bool) ([]lifecycle.Binding, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA file %s for the ca-certificates binding: %w", caFile, err)
	}
	if siteOnly {
		if pem, err = siteCAs(pem, DistroCADir); err != nil || pem == nil {
			return nil, err
		}
	}
	return []lifecycle.Binding{{Name: "ca-certificates", Type: "ca-certificates", Files: map[string][]byte{"ca-certificates.crt": pem}}}, nil
}

// excluded lists what must stay out of the app's workspace: the build cache,
// any target that lies inside the app directory, so an image written into the
// app is never copied into the next one, and the secrets (env files, binding
// directories) the user passed from inside it.
func excluded(app, cacheDir string, targets []image.Target, secrets []string) []string {
	out := []string{cacheDir}
	for _, t := range targets {
		if p, ok := t.(image.LocalTarget); ok {
			out = append(out, p.Path())
		}
	}
	out = append(out, secrets...)
	var inside []string
	for _, p := range out {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(app, abs); err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../") {
			inside = append(inside, abs)
		}
	}
	return inside
}

func envInt(env buildpack.Env, name, img string) (int, error) {
	v, ok := env[name]
	if !ok {
		return 0, fmt.Errorf("build image %s does not set %s: not a CNB build image", img, name)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("build image %s: %s=%q is not a number", img, name, v)
	}
	return n, nil
}

// userName is the CNB user's name when the image config names it, else "cnb".
func userName(user string, uid int) string {
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == strconv.Itoa(uid) {
		return "cnb"
	}
	return name
}

// CacheRoot is distill's directory under the user cache directory
// ($XDG_CACHE_HOME/distill, ~/.cache/distill): build caches, unpacked build
// images, extracted builders, the image store.
func CacheRoot() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "distill")
}
