// Package platform is distill's CNB platform: it wires a builder, its images,
// the sandbox, the lifecycle phases and the image targets into one build.
package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/lifecycle"
	"github.com/distill-build/distill/internal/report"
)

// BuildOptions configure Build.
type BuildOptions struct {
	AppDir string
	// Builder is the path of a builder.toml, or a builder image: a reference
	// (local store, daemon, registry) or oci:DIR.
	Builder string
	// Targets receive the image; all are written or the build fails.
	Targets []image.Target
	// Env is the user's build environment (--env, --env-file).
	Env        map[string]string
	CacheDir   string // default: a directory per app under the user cache dir
	ClearCache bool
	// CAFile, when set, becomes a ca-certificates service binding so every
	// tool in the build trusts those CAs (a TLS-intercepting proxy's, say).
	CAFile string
	// Compression of the layers the build adds (default zstd).
	Compression image.Compression
	Log         io.Writer
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
	b, images, buildImg, err := loadBuilder(ctx, o.Builder, o.Log)
	if err != nil {
		return nil, err
	}
	// direct mode: runner.go decides runc (build image unpacked) or direct (in place, no containers).
	box, err := newSandbox(ctx, buildImg, b.Config.Build.Image, o.Log)
	if err != nil {
		return nil, err
	}

	userEnv := map[string]string{}
	for _, e := range b.Config.Build.Env {
		userEnv[e.Name] = e.Value
	}
	for k, v := range o.Env {
		userEnv[k] = v
	}
	var bindings []lifecycle.Binding
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file %s for the ca-certificates binding: %w", o.CAFile, err)
		}
		bindings = append(bindings, lifecycle.Binding{Name: "ca-certificates", Type: "ca-certificates", Files: map[string][]byte{"ca-certificates.crt": pem}})
	}
	cacheDir := o.CacheDir
	if cacheDir == "" {
		sum := sha256.Sum256([]byte(app))
		cacheDir = filepath.Join(cacheRoot(), "cache", hex.EncodeToString(sum[:8]))
	}
	cache := &lifecycle.Cache{Dir: cacheDir}
	if o.ClearCache {
		if err := cache.Clear(); err != nil {
			return nil, err
		}
	}
	var runImages []string
	for _, r := range b.Config.RunImages() {
		runImages = append(runImages, r.Image)
	}
	res, err := lifecycle.Build(ctx, lifecycle.Options{
		AppDir:          app,
		Modules:         lifecycle.Modules{Buildpacks: b.Buildpacks, Extensions: b.Extensions},
		Order:           b.Config.Order,
		OrderExtensions: b.Config.OrderExtensions,
		BuildEnv:        box.env.List(), // direct mode: from runner.go
		Runner:          box.runner,     // direct mode
		Layout:          box.layout,     // direct mode
		UID:             box.uid, GID: box.gid,
		Env:          userEnv,
		Bindings:     bindings,
		RunImages:    runImages,
		ResolveImage: images.Resolve,
		Cache:        cache,
		ClearCache:   o.ClearCache,
		Compression:  o.Compression,
		Log:          o.Log,
	})
	if err != nil {
		return nil, err
	}
	defer res.Close()
	for _, t := range o.Targets {
		if err := t.Write(ctx, res.Image); err != nil {
			return nil, fmt.Errorf("writing image to %s: %w", t, err)
		}
		fmt.Fprintf(o.Log, "Wrote %s\n", t)
	}
	if err := res.Commit(); err != nil {
		return nil, fmt.Errorf("saving the build cache %s: %w", cacheDir, err)
	}
	var layers []report.LayerInfo
	for _, l := range res.Layers {
		layers = append(layers, report.LayerInfo{Name: l.Name, Reused: l.RunImage || l.Cached})
	}
	rep, err := report.New(res.Image, layers)
	if err != nil {
		return nil, err
	}
	rep.Duration = res.Duration
	return rep, nil
}

// loadBuilder reads the builder: a builder.toml (buildpacks compiled from
// their directories, stack images built on first use), or a builder image
// (an image reference or oci:DIR, from distill or pack builder create) whose
// buildpacks are extracted into the cache and which is its own build image.
//
// direct mode: the build image is an imageSource, resolved only when runc needs it.
func loadBuilder(ctx context.Context, ref string, log io.Writer) (*builder.Builder, *builder.Images, imageSource, error) {
	if builder.IsConfigFile(ref) {
		b, err := builder.Load(ctx, ref, log)
		if err != nil {
			return nil, nil, nil, err
		}
		images, err := builder.NewImages(b.Config.Path, log)
		if err != nil {
			return nil, nil, nil, err
		}
		buildImg := func(ctx context.Context) (v1.Image, error) { // direct mode: resolved lazily
			img, err := images.Resolve(ctx, b.Config.Build.Image)
			if err != nil {
				return nil, fmt.Errorf("%s: [build] image %s: %w", b.Config.Path, b.Config.Build.Image, err)
			}
			return img, nil
		}
		return b, images, buildImg, nil
	}
	images, err := builder.NewImages("", log)
	if err != nil {
		return nil, nil, nil, err
	}
	// A builder image names run images its users pull: ask the registry
	// before the daemon, whose copy may not be readable back through the
	// Docker API (podman cannot save zstd layers as a docker archive).
	images.Options = append(images.Options, image.WithSources(image.FromStore, image.FromRegistry, image.FromDaemon))
	img, err := images.Resolve(ctx, ref)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("builder %s: %w", ref, err)
	}
	b, err := builder.FromImage(ctx, ref, img, filepath.Join(cacheRoot(), "builders"))
	if err != nil {
		return nil, nil, nil, err
	}
	return b, images, func(context.Context) (v1.Image, error) { return img, nil }, nil // direct mode
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

func cacheRoot() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "distill")
}
