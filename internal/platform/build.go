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
	// Compression of the layers the build adds (default zstd).
	Compression image.Compression
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

// Build builds the app at o.AppDir into an image, writes it to every target
// and returns the size report. If any step fails nothing is written: targets
// keep what they had and the cache is left as it was.
func Build(ctx context.Context, o BuildOptions) (*report.Report, error) {
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
	// Every image the build may need is resolved, and every stack image
	// built, before the lifecycle starts.
	images, err := ResolveImages(ctx, b, o.Log)
	if err != nil {
		return nil, err
	}
	box, err := newSandbox(ctx, images.BuildImage, b.Config.Build.Image, o.Log)
	if err != nil {
		return nil, err
	}
	cacheDir := o.CacheDir
	if cacheDir == "" {
		sum := sha256.Sum256([]byte(app))
		cacheDir = filepath.Join(CacheRoot(), "cache", hex.EncodeToString(sum[:8]))
	}
	if err := cacheprune.Use(cacheDir); err != nil {
		return nil, err
	}
	cache := &lifecycle.Cache{Dir: cacheDir}
	if o.ClearCache {
		if err := cache.Clear(); err != nil {
			return nil, err
		}
	}
	bindings, err := allBindings(o.CAFile, o.Bindings)
	if err != nil {
		return nil, err
	}
	if len(o.Bindings) > 0 {
		fmt.Fprintf(o.Log, "Service bindings: %s\n", strings.Join(bindingNames(bindings), ", "))
	}
	res, err := lifecycle.Build(ctx, lifecycle.Options{
		AppDir:          app,
		Exclude:         excluded(app, cacheDir, o.Targets, append(slices.Clone(o.EnvFiles), o.Bindings...)),
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
		Log:          o.Log,
	})
	if err != nil {
		return nil, err
	}
	defer res.Close()
	rep, err := write(ctx, res, o.Targets, cacheDir, bud, o.Log)
	var over *budget.ExceededError
	if errors.As(err, &over) && o.ReportHTML != "" {
		// No image is written, but the page shows where the bytes went.
		if herr := writeHTMLReport(ctx, o, over.Report, res.Image); herr != nil {
			return nil, errors.Join(err, herr)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := writeExtras(ctx, o, rep, res.Image); err != nil {
		return nil, err
	}
	return rep, nil
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

// write checks the image against the budget, writes it to every target, then
// saves the cache, and reports. Over budget, nothing is written.
func write(ctx context.Context, res *lifecycle.Result, targets []image.Target, cacheDir string, bud budget.Budget, log io.Writer) (*report.Report, error) {
	rep, err := report.New(res.Image, res.Layers)
	if err != nil {
		return nil, err
	}
	rep.Duration = res.Duration
	names := make([]string, len(res.Layers))
	for i, l := range res.Layers {
		names[i] = report.RowName(l.ID)
	}
	if err := budget.Check(ctx, res.Image, rep, names, bud); err != nil {
		return nil, err
	}
	for _, t := range targets {
		if err := t.Write(ctx, res.Image); err != nil {
			return nil, fmt.Errorf("writing image to %s: %w", t, err)
		}
		fmt.Fprintf(log, "Wrote %s\n", t)
	}
	if err := res.Commit(); err != nil {
		return nil, fmt.Errorf("saving the build cache %s: %w", cacheDir, err)
	}
	return rep, nil
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

// allBindings is the ca-certificates binding of caFile (if any) and the
// user's --binding directories.
func allBindings(caFile string, dirs []string) ([]lifecycle.Binding, error) {
	bindings, err := caBinding(caFile)
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

func caBinding(caFile string) ([]lifecycle.Binding, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA file %s for the ca-certificates binding: %w", caFile, err)
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
