package platform

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/builderimage"
	"github.com/distill-build/distill/internal/cnbmeta"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/stack"
)

// CreateBuilderOptions configure CreateBuilder.
type CreateBuilderOptions struct {
	// Config is the builder.toml; "" for the builder Files carries.
	Config string
	Files  fs.FS
	// Binary is the running distill binary: the bin/ of the modules it runs
	// in the host platform's builder.
	Binary *builder.Binary
	// Platforms are the builder's platforms (ParsePlatforms); nil for one
	// image of the host's platform, exactly as without multi-arch support.
	Platforms []v1.Platform
	// Lifecycles are lifecycle tarballs by platform (PlatformFiles: "" for
	// the host's, else v1.Platform.String()); the host's defaults to
	// builder.toml's [lifecycle] uri, any other platform's must be given.
	Lifecycles map[string]string
	// Binaries are distill binaries by platform (PlatformFiles), required
	// for every platform but the host's.
	Binaries map[string]string
	// StackRegistry, if set, is where the stack images are pushed first
	// (builderimage.PublishStacks), one index per stack for several platforms.
	StackRegistry string
	Targets       []image.Target
	Log           io.Writer
}

// CreateBuilder builds the builder image of each platform and writes them
// to the targets: one image without Platforms, else their image index (a
// target that holds one image gets the host's, else the first). It returns
// the digest of what it wrote (image or index).
func CreateBuilder(ctx context.Context, o CreateBuilderOptions) (v1.Hash, error) {
	b, err := LoadBuilder(ctx, o.Config, o.Files, o.Binary, o.Log)
	if err != nil {
		return v1.Hash{}, err
	}
	single := len(o.Platforms) == 0
	platforms := o.Platforms
	if single {
		platforms = []v1.Platform{HostPlatform()}
	}
	// Every platform's lifecycle and binary are checked before any image is built.
	opts := make([]builderimage.CreateOptions, len(platforms))
	for i, p := range platforms {
		if opts[i], err = createOptions(o, p, single, ""); err != nil {
			return v1.Hash{}, err
		}
	}
	buildRef := b.Config.Build.Image
	stacks := make([]*stack.Images, len(platforms))
	for i, p := range platforms {
		if stacks[i], err = platformStacks(ctx, b, p, single, o.Log); err != nil {
			return v1.Hash{}, err
		}
	}
	if o.StackRegistry != "" {
		if err := builderimage.PublishStacks(ctx, b, stacks, platforms, o.StackRegistry, o.Log); err != nil {
			return v1.Hash{}, err
		}
	}
	staging, err := os.MkdirTemp("", "distill-builder-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(staging)
	all := image.PlatformImages{Platforms: platforms, Main: mainPlatform(platforms), What: "builder"}
	for i, p := range platforms {
		co := opts[i]
		co.Staging = staging
		build, err := stacks[i].Resolve(ctx, buildRef)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("%s: build image %s for %s: %w", b.Config.Path, buildRef, p, err)
		}
		img, err := builderimage.Create(ctx, b, build, co)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("the %s builder: %w", p, err)
		}
		all.Images = append(all.Images, img)
	}
	if err := all.WriteAll(ctx, o.Targets, o.Log); err != nil {
		return v1.Hash{}, err
	}
	if single {
		return all.Images[0].Digest()
	}
	idx, err := image.Index(platforms, all.Images)
	if err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}

// platformStacks resolves p's run images (checking their stack id) and
// returns the resolver of p's stack images. single keeps the resolver of a
// host-only builder as it always was (no Arch).
func platformStacks(ctx context.Context, b *builder.Builder, p v1.Platform, single bool, log io.Writer) (*stack.Images, error) {
	arch := p.Architecture
	if single {
		arch = ""
	}
	images, err := ResolveImages(ctx, b, arch, log)
	if err != nil {
		return nil, err
	}
	if err := checkRunImages(ctx, b, images); err != nil {
		return nil, err
	}
	var resolver *stack.Images
	if b.StacksDir() == "" {
		resolver = builderImages(log)
	} else if resolver, err = stack.NewImages(b.StacksDir(), log); err != nil {
		return nil, err
	}
	resolver.Arch = arch
	return resolver, nil
}

// checkRunImages checks the stack id of every run image against the builder's.
func checkRunImages(ctx context.Context, b *builder.Builder, images *Images) error {
	for _, ref := range images.RunRefs {
		img, err := images.Resolve(ctx, ref)
		if err != nil {
			return fmt.Errorf("%s: run image %s: %w", b.Config.Path, ref, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		if id, want := cf.Config.Labels[cnbmeta.LabelStackID], b.Config.Stack.ID; want != "" && id != "" && id != want {
			return fmt.Errorf("%s: run image %s has stack id %q, the builder %q", b.Config.Path, ref, id, want)
		}
	}
	return nil
}

// createOptions are builderimage.Create's options for platform p: its
// lifecycle (checked against p's arch unless single) and, for a platform
// other than the host's, its distill binary (checked likewise).
func createOptions(o CreateBuilderOptions, p v1.Platform, single bool, staging string) (builderimage.CreateOptions, error) {
	co := builderimage.CreateOptions{Staging: staging, Log: o.Log}
	host := isHost(p)
	co.Lifecycle = o.Lifecycles[p.String()]
	if co.Lifecycle == "" && host {
		co.Lifecycle = o.Lifecycles[""]
	}
	if !single {
		co.Arch = p.Architecture
		if co.Lifecycle == "" && !host {
			return co, fmt.Errorf("no lifecycle for %s: pass --lifecycle %s/%s=FILE, a lifecycle tarball built for it "+
				"(scripts/tools builds .cache/tools/lifecycle-%s.tgz; releases name it lifecycle-v<version>+linux.%s.tgz)",
				p, p.OS, p.Architecture, p.Architecture, releaseArch(p.Architecture))
		}
		if co.Lifecycle != "" {
			flag := "--lifecycle " + p.OS + "/" + p.Architecture + "=" + co.Lifecycle
			if err := builderimage.CheckLifecycle(context.Background(), co.Lifecycle, p.Architecture, flag); err != nil {
				return co, err
			}
		}
	}
	binPath := o.Binaries[p.String()]
	if binPath == "" && host {
		binPath = o.Binaries[""]
	}
	switch {
	case binPath != "":
		flag := "--binary " + p.OS + "/" + p.Architecture + "=" + binPath
		if err := builderimage.CheckELF(binPath, p.Architecture, flag); err != nil {
			return co, err
		}
		co.Binary = &builder.Binary{Path: binPath, Runs: o.Binary.Runs}
	case !host:
		return co, fmt.Errorf("no distill binary for %s: the builder's buildpacks run the distill binary, so pass --binary %s/%s=PATH, "+
			"distill built for it (CGO_ENABLED=0 GOOS=%s GOARCH=%s go build ./cmd/distill)", p, p.OS, p.Architecture, p.OS, p.Architecture)
	}
	return co, nil
}

// releaseArch is the architecture's name in lifecycle release tarballs.
func releaseArch(arch string) string {
	return map[string]string{"amd64": "x86-64", "arm64": "arm64"}[arch]
}

// PlatformFiles reads the values of a repeatable flag naming one file per
// platform: "FILE" (the host's platform) or "OS/ARCH[/VARIANT]=FILE"
// (linux/arm64=lifecycle-arm64.tgz). The map is keyed by "" for a bare FILE,
// else by the platform's v1.Platform.String() (linux/arm64/v8). A platform
// given twice, an unsupported platform or an empty FILE is an error naming
// flag and value.
func PlatformFiles(flag string, values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		key, file := "", v
		if before, after, ok := strings.Cut(v, "="); ok && strings.Contains(before, "/") {
			p, err := parsePlatform(before)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", flag, v, err)
			}
			key, file = p.String(), after
		}
		if file == "" {
			return nil, fmt.Errorf("%s %q: no file: want FILE or OS/ARCH=FILE", flag, v)
		}
		if _, ok := out[key]; ok {
			what := "the host's platform"
			if key != "" {
				what = key
			}
			return nil, fmt.Errorf("%s %q: a second file for %s", flag, v, what)
		}
		out[key] = file
	}
	return out, nil
}
