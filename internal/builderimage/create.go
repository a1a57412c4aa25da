package builderimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/distill-build/distill/internal/cnbmeta"

	"github.com/BurntSushi/toml"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/internal/archive"
	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/image"
)

// Compression is the compression of the layers a builder adds: gzip, which
// every platform that runs builders (older containerd and Docker included) pulls.
var Compression = image.Gzip

// Version is written into the builder metadata's createdBy.
var Version = "dev"

// CreateOptions configure Create.
type CreateOptions struct {
	// Lifecycle is the lifecycle tarball; default: builder.toml's [lifecycle]
	// uri, else .cache/tools/lifecycle.tgz next to builder.toml (scripts/tools).
	Lifecycle string
	// Arch is the GOARCH the builder is for (one image of a builder index);
	// "" for a builder of the build image's platform, unchecked. When set,
	// the lifecycle's executables must be for Arch.
	Arch string
	// Binary is the distill binary for Arch, installed as the bin/ of every
	// module it runs (in a copy under Staging); nil: the modules as loaded
	// (the running binary's).
	Binary *builder.Binary
	// Staging holds the layers' tar files until the image is written; the
	// caller removes it afterwards. Default: the system temp directory.
	Staging string
	Log     io.Writer
}

// LifecyclePath is the lifecycle tarball Create uses for b.
func LifecyclePath(b *builder.Builder, override string) (string, error) {
	if override != "" {
		return override, nil
	}
	uri := b.Config.Lifecycle.URI
	if uri == "" {
		uri = defaultLifecycleTarball
	}
	if strings.Contains(uri, "://") && !strings.HasPrefix(uri, "file://") {
		return "", fmt.Errorf("%s: [lifecycle] uri %q: only local tarballs are supported (build one with scripts/tools)", b.Config.Path, uri)
	}
	p := b.Config.Resolve(uri)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: lifecycle tarball %s: %w; pass --lifecycle FILE, a CNB lifecycle release tarball "+
			"(lifecycle-v<version>+linux.x86-64.tgz from the buildpacks/lifecycle releases; scripts/tools in a distill checkout builds one from source)",
			b.Config.Path, p, errors.Unwrap(err))
	}
	return p, nil
}

// Create assembles the builder image: the build image plus one layer of
// directories (/workspace, /layers, /cnb, /platform), one for the lifecycle,
// one per buildpack and extension, and one with /cnb/order.toml, run.toml and
// stack.toml; with the labels pack, kpack and the lifecycle read. Its os,
// architecture and variant are the build image's. Nothing is written: the
// caller writes the image to its targets.
func Create(ctx context.Context, b *builder.Builder, build v1.Image, o CreateOptions) (v1.Image, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	lc, err := openLifecycle(ctx, b, o)
	if err != nil {
		return nil, err
	}
	cf, err := build.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading build image %s: %w", b.Config.Build.Image, err)
	}
	uid, gid, err := cnbIDs(buildpack.NewEnv(cf.Config.Env), b.Config.Build.Image)
	if err != nil {
		return nil, err
	}
	stackID, err := builderStackID(b, cf.Config.Labels[cnbmeta.LabelStackID])
	if err != nil {
		return nil, err
	}
	lw := &layers{staging: o.Staging, bin: o.Binary}
	defer lw.cleanup()
	labels, err := lw.addAll(ctx, b, lc, uid, gid)
	if err != nil {
		return nil, err
	}
	labels.stackID = stackID
	img, err := mutate.Append(image.OCI(build), lw.adds...)
	if err != nil {
		return nil, err
	}
	img, err = withBuilderConfig(img, labels, uid, gid)
	if err != nil {
		return nil, err
	}
	lw.keep = true // the image reads its layers from the staging files
	return img, nil
}

// openLifecycle reads the lifecycle tarball o or b names and, for an
// explicit o.Arch, checks its executables are for that architecture.
func openLifecycle(ctx context.Context, b *builder.Builder, o CreateOptions) (*Lifecycle, error) {
	lcPath, err := LifecyclePath(b, o.Lifecycle)
	if err != nil {
		return nil, err
	}
	lc, err := ReadLifecycle(lcPath)
	if err != nil {
		return nil, err
	}
	if o.Arch != "" {
		if err := checkLifecycleArch(ctx, lc, o.Arch); err != nil {
			return nil, err
		}
	}
	return lc, nil
}

// addAll adds the builder's layers (directories, lifecycle, modules,
// config files) and returns the labels describing them (no stack id).
func (l *layers) addAll(ctx context.Context, b *builder.Builder, lc *Lifecycle, uid, gid int) (builderLabels, error) {
	var none builderLabels
	if err := l.add(baseTar(b, uid, gid), "distill: builder directories"); err != nil {
		return none, err
	}
	lct, err := lifecycleTar(ctx, lc)
	if err != nil {
		return none, fmt.Errorf("reading lifecycle %s: %w", lc.Path, err)
	}
	if err := l.add(lct, "distill: lifecycle "+lc.Descriptor.Lifecycle.Version); err != nil {
		return none, err
	}
	md := BuilderMetadata{
		Description: b.Config.Description,
		Lifecycle:   lc.Metadata(),
		CreatedBy:   CreatorMetadata{Name: createdByName, Version: Version},
		Buildpacks:  []ModuleInfo{},
	}
	bpLayers, err := l.addModules(b.Buildpacks, &md.Buildpacks)
	if err != nil {
		return none, err
	}
	exLayers, err := l.addModules(b.Extensions, &md.Extensions)
	if err != nil {
		return none, err
	}
	order, err := resolveOrder(b, b.Config.Order, b.Buildpacks)
	if err != nil {
		return none, err
	}
	orderExt, err := resolveOrder(b, b.Config.OrderExtensions, b.Extensions)
	if err != nil {
		return none, err
	}
	for _, r := range b.Config.RunImages() {
		md.RunImages = append(md.RunImages, RunImageMetadata{Image: r.Image, Mirrors: r.Mirrors})
	}
	md.Stack.RunImage = md.RunImages[0]
	cfgTar, err := configTar(buildpack.OrderFile{Order: order, OrderExtensions: orderExt}, md.RunImages)
	if err != nil {
		return none, err
	}
	if err := l.add(cfgTar, "distill: order.toml, run.toml, stack.toml"); err != nil {
		return none, err
	}
	labels := builderLabels{metadata: md, buildpacks: bpLayers, order: order}
	if len(b.Extensions) > 0 {
		labels.extensions, labels.orderExtensions = exLayers, orderExt
	}
	return labels, nil
}

// builderStackID is builder.toml's [stack] id, else the build image's stack
// label; an error when both are set and differ.
func builderStackID(b *builder.Builder, fromImage string) (string, error) {
	id := b.Config.Stack.ID
	if id == "" {
		return fromImage, nil
	}
	if fromImage != "" && fromImage != id {
		return "", fmt.Errorf("%s: [stack] id %q, but build image %s has %s=%q", b.Config.Path, id, b.Config.Build.Image, cnbmeta.LabelStackID, fromImage)
	}
	return id, nil
}

// baseTar holds the directories the lifecycle expects, owned as pack makes
// them, and the builder's build-config env files.
func baseTar(b *builder.Builder, uid, gid int) *tarBuilder {
	base := &tarBuilder{}
	base.dir("workspace", 0o755, uid, gid)
	base.dir("layers", 0o755, uid, gid)
	for _, d := range []string{"cnb", "cnb/buildpacks", "cnb/extensions", "platform", "platform/env", "cnb/build-config", "cnb/build-config/env"} {
		base.dir(d, 0o755, 0, 0)
	}
	envs := append([]builder.EnvConfig(nil), b.Config.Build.Env...)
	sort.Slice(envs, func(i, j int) bool { return envs[i].Name < envs[j].Name })
	for _, e := range envs {
		base.file(path.Join(strings.TrimPrefix(cnbBuildConfigEnvDir, "/"), e.Name), []byte(e.Value), 0o644, 0, 0)
	}
	return base
}

// lifecycleTar holds the lifecycle's files under /cnb/lifecycle, and the
// /lifecycle link pack adds for old platforms.
func lifecycleTar(ctx context.Context, lc *Lifecycle) (*tarBuilder, error) {
	lct := &tarBuilder{}
	lct.dir("cnb", 0o755, 0, 0)
	err := lc.walk(ctx, func(name string, hdr *tar.Header, r io.Reader) error {
		rest, ok := strings.CutPrefix(name, "lifecycle")
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			return nil
		}
		target := "cnb/lifecycle" + rest
		switch hdr.Typeflag {
		case tar.TypeDir:
			lct.dir(target, 0o755, 0, 0)
		case tar.TypeSymlink:
			lct.symlink(target, hdr.Linkname, 0, 0)
		case tar.TypeReg:
			data, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			lct.file(target, data, hdr.FileInfo().Mode().Perm(), 0, 0)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	lct.symlink("lifecycle", cnbLifecycleDir, 0, 0)
	return lct, nil
}

// addModules adds one layer per module (buildpack or extension), appends
// each module's metadata to info, and returns the layers label's content.
func (l *layers) addModules(modules []*buildpack.Descriptor, info *[]ModuleInfo) (ModuleLayers, error) {
	out := ModuleLayers{}
	for _, d := range modules {
		d, err := withBinary(d, l.bin, l.staging)
		if err != nil {
			return nil, err
		}
		layer, err := ModuleLayer(d, l.staging)
		if err != nil {
			return nil, err
		}
		diff, err := layer.DiffID()
		if err != nil {
			return nil, err
		}
		l.addLayer(layer, "distill: "+d.Kind()+" "+d.Key())
		mi := d.Info()
		if out[mi.ID] == nil {
			out[mi.ID] = map[string]ModuleLayerInfo{}
		}
		out[mi.ID][mi.Version] = ModuleLayerInfo{
			API: d.API, Stacks: jsonStacks(d.Stacks), Targets: d.Targets, Order: d.Order,
			LayerDiffID: diff.String(), Homepage: mi.Homepage, Name: mi.Name,
		}
		*info = append(*info, moduleInfo(d))
	}
	return out, nil
}

// configTar holds /cnb/order.toml, run.toml and stack.toml.
func configTar(order buildpack.OrderFile, runImages []RunImageMetadata) (*tarBuilder, error) {
	t := &tarBuilder{}
	t.dir("cnb", 0o755, 0, 0)
	for _, f := range []struct {
		path string
		v    any
	}{
		{cnbOrderPath, order},
		{cnbRunPath, struct {
			Images []RunImageMetadata `toml:"images"`
		}{runImages}},
		{cnbStackPath, struct {
			RunImage RunImageMetadata `toml:"run-image"`
		}{runImages[0]}},
	} {
		data, err := tomlBytes(f.v)
		if err != nil {
			return nil, err
		}
		t.file(strings.TrimPrefix(f.path, "/"), data, 0o644, 0, 0)
	}
	return t, nil
}

// builderLabels are the values of the labels a builder carries beside its
// build image's (nil extension fields: no extension labels).
type builderLabels struct {
	metadata        BuilderMetadata
	buildpacks      ModuleLayers
	order           buildpack.Order
	extensions      ModuleLayers
	orderExtensions buildpack.Order
	stackID         string
}

// withBuilderConfig sets the builder labels, the working directory /layers,
// the CNB user (unless the build image names one) and the epoch creation time.
func withBuilderConfig(img v1.Image, l builderLabels, uid, gid int) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg := cf.Config
	labels := maps.Clone(cfg.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	values := map[string]any{LabelBuilderMetadata: l.metadata, LabelBuildpackLayers: l.buildpacks, LabelBuildpackOrder: l.order}
	if l.extensions != nil {
		values[LabelExtensionLayers], values[LabelOrderExtensions] = l.extensions, l.orderExtensions
	}
	for k, v := range values {
		s, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		labels[k] = string(s)
	}
	if l.stackID != "" {
		labels[cnbmeta.LabelStackID] = l.stackID
	}
	if _, ok := labels[LabelStackMixins]; !ok {
		labels[LabelStackMixins] = "[]"
	}
	cfg.Labels = labels
	cfg.WorkingDir = "/layers"
	if cfg.User == "" {
		cfg.User = strconv.Itoa(uid) + ":" + strconv.Itoa(gid)
	}
	img, err = mutate.Config(img, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: image.Epoch})
}

// resolveOrder fills in the version of every group member from the modules.
func resolveOrder(b *builder.Builder, order buildpack.Order, modules []*buildpack.Descriptor) (buildpack.Order, error) {
	out := buildpack.Order{}
	for _, g := range order {
		var group buildpack.Group
		for _, ref := range g.Group {
			found := false
			for _, d := range modules {
				if d.Info().ID == ref.ID && (ref.Version == "" || ref.Version == d.Info().Version) {
					ref.Version = d.Info().Version
					found = true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("%s: order names %s, which the builder does not have", b.Config.Path, ref.Key())
			}
			group.Group = append(group.Group, ref)
		}
		out = append(out, group)
	}
	return out, nil
}

// ModuleLayer is the layer holding a buildpack or extension at
// /cnb/{buildpacks,extensions}/<escaped id>/<version>/, owned by root. Go
// sources and test data, which the compiled bin/ makes redundant, are left out.
func ModuleLayer(d *buildpack.Descriptor, staging string) (v1.Layer, error) {
	dir := cnbBuildpacksDir
	if d.IsExtension() {
		dir = cnbExtensionsDir
	}
	prefix := path.Join(dir, buildpack.EscapedID(d.Info().ID), d.Info().Version)
	l, err := image.LayerFromDir(d.Dir, image.WithPrefix(prefix), image.WithOwner(0, 0), image.WithStaging(staging), image.WithFilter(keepModuleFile), image.WithCompression(Compression))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", d.Kind(), d.Key(), err)
	}
	return l, nil
}

func keepModuleFile(rel string, e fs.DirEntry) bool {
	base := path.Base(rel)
	if e.IsDir() {
		return base != "testdata" && !strings.HasPrefix(base, ".")
	}
	return !strings.HasSuffix(base, ".go") && base != "go.mod" && base != "go.sum"
}

func cnbIDs(env buildpack.Env, img string) (int, int, error) {
	var ids [2]int
	for i, name := range []string{"CNB_USER_ID", "CNB_GROUP_ID"} {
		v, ok := env[name]
		if !ok {
			return 0, 0, fmt.Errorf("build image %s does not set %s: not a CNB build image", img, name)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, fmt.Errorf("build image %s: %s=%q is not a number", img, name, v)
		}
		ids[i] = n
	}
	return ids[0], ids[1], nil
}

func tomlBytes(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// layers collects the layers appended to the build image.
type layers struct {
	staging string
	bin     *builder.Binary // the modules' binary, when not the loaded one
	adds    []mutate.Addendum
	files   []string
	keep    bool
}

func (l *layers) add(t *tarBuilder, createdBy string) error {
	f, err := os.CreateTemp(l.staging, "distill-builder-*.tar")
	if err != nil {
		return err
	}
	l.files = append(l.files, f.Name())
	if err := t.writeTo(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	layer, err := image.LayerFromTarFile(f.Name(), image.WithStaging(l.staging), image.WithCompression(Compression))
	if err != nil {
		return err
	}
	l.addLayer(layer, createdBy)
	return nil
}

func (l *layers) addLayer(layer v1.Layer, createdBy string) {
	mt, err := layer.MediaType()
	if err != nil {
		mt = types.OCILayer
	}
	l.adds = append(l.adds, mutate.Addendum{Layer: layer, MediaType: mt, History: v1.History{
		Created: v1.Time{Time: image.Epoch}, CreatedBy: createdBy,
	}})
}

func (l *layers) cleanup() {
	if l.keep {
		return
	}
	for _, f := range l.files {
		os.Remove(f)
	}
}

// tarBuilder collects a small tar of synthetic entries (the first of a name
// wins) and writes it through archive.Writer: sorted, parent directories
// added (0755, root), the fixed epoch, numeric owners.
type tarBuilder struct {
	entries map[string]tarEntry
}

type tarEntry struct {
	hdr  tar.Header
	data []byte
}

func (t *tarBuilder) add(hdr tar.Header, data []byte) {
	if t.entries == nil {
		t.entries = map[string]tarEntry{}
	}
	name := strings.TrimSuffix(hdr.Name, "/")
	if _, ok := t.entries[name]; ok {
		return
	}
	t.entries[name] = tarEntry{hdr, data}
}

func (t *tarBuilder) dir(name string, mode int64, uid, gid int) {
	t.add(tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, Uid: uid, Gid: gid}, nil)
}

func (t *tarBuilder) file(name string, data []byte, mode fs.FileMode, uid, gid int) {
	t.add(tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(mode), Size: int64(len(data)), Uid: uid, Gid: gid}, data)
}

func (t *tarBuilder) symlink(name, target string, uid, gid int) {
	t.add(tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, Uid: uid, Gid: gid}, nil)
}

func (t *tarBuilder) writeTo(w io.Writer) error {
	tw := archive.NewWriter(w)
	for _, name := range slices.Sorted(maps.Keys(t.entries)) {
		e := t.entries[name]
		if err := tw.WriteHeader(&e.hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

func jsonStacks(stacks []buildpack.Stack) []StackRef {
	var out []StackRef
	for _, s := range stacks {
		out = append(out, StackRef{ID: s.ID, Mixins: s.Mixins})
	}
	return out
}
