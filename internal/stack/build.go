package stack

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/distill-build/distill/internal/cnbmeta"

	"github.com/bmatcuk/doublestar/v4"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/image"
)

// MirrorEnv names the environment variable that overrides the package
// mirror(s): its value is passed to mmdebstrap as MIRROR argument(s)
// (a URI, a one-line sources.list entry or a deb822 file; several are
// separated by "|" or newlines). Unset, mmdebstrap uses its own default.
const MirrorEnv = "DISTILL_APT_MIRROR"

// Labels written on every stack image.
const (
	LabelTitle = "org.opencontainers.image.title"
	// LabelDefinition is the digest of the stacks/*.toml the image was built
	// from, so callers that cache stack images know when to rebuild.
	LabelDefinition = "io.distill.stack.definition"
)

type buildOptions struct {
	log      *slog.Logger
	progress io.Writer
	workDir  string
	mirrors  []string
	tool     string
	arch     string
	// binfmtDir is the binfmt_misc mount read to tell whether a foreign
	// arch's maintainer scripts can run (BinfmtDir).
	binfmtDir string
}

// Option configures Build.
type Option func(*buildOptions)

// WithLogger receives progress: mmdebstrap's output line by line and the
// steps of the build (at Info level).
func WithLogger(l *slog.Logger) Option { return func(o *buildOptions) { o.log = l } }

// WithProgress copies mmdebstrap's output, unchanged, to w.
func WithProgress(w io.Writer) Option { return func(o *buildOptions) { o.progress = w } }

// WithWorkDir stages temporary files (the unpacked packages and the layer
// tarball, about twice the image's uncompressed size) under dir instead of
// os.TempDir(). Everything staged is removed before Build returns.
func WithWorkDir(dir string) Option { return func(o *buildOptions) { o.workDir = dir } }

// WithMirrors sets mmdebstrap's MIRROR arguments, overriding $DISTILL_APT_MIRROR.
func WithMirrors(m ...string) Option { return func(o *buildOptions) { o.mirrors = m } }

// WithArch builds the image for GOARCH arch (default: the running
// architecture's). An extract-variant stack builds for any architecture:
// packages are unpacked, never run. Any other variant runs maintainer
// scripts, so a foreign architecture needs an enabled binfmt_misc handler
// for it (Emulates); without one Build fails saying what to install.
func WithArch(arch string) Option { return func(o *buildOptions) { o.arch = arch } }

// WithBinfmtDir reads binfmt_misc handlers from dir instead of BinfmtDir.
func WithBinfmtDir(dir string) Option { return func(o *buildOptions) { o.binfmtDir = dir } }

// debArch maps GOARCH to Debian's architecture names.
func debArch(goarch string) string {
	switch goarch {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	default:
		return goarch // amd64, arm64, riscv64, s390x, loong64
	}
}

// Build builds the image d describes for the running architecture, or
// WithArch's. A foreign architecture with a stack that runs maintainer
// scripts (any variant but extract) needs emulation: without a binfmt_misc
// handler for it, an error saying so. The
// returned image holds one layer, kept compressed in memory; nothing stays
// on disk, whether Build succeeds or not.
func Build(ctx context.Context, d *Definition, opts ...Option) (v1.Image, error) {
	o := buildOptions{tool: "mmdebstrap", arch: runtime.GOARCH, binfmtDir: BinfmtDir}
	if m := os.Getenv(MirrorEnv); m != "" {
		o.mirrors = splitMirrors(m)
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	log := o.log.With("stack", d.Image)
	if o.arch != runtime.GOARCH && !d.Extract() {
		ok, err := Emulates(o.binfmtDir, o.arch)
		if err != nil {
			return nil, fmt.Errorf("building %s for linux/%s: %w", d.Image, o.arch, err)
		}
		if !ok {
			return nil, emulationError(d, o.arch)
		}
		log.Info("maintainer scripts run under emulation (binfmt_misc)", "arch", o.arch)
	}
	if _, err := exec.LookPath(o.tool); err != nil {
		return nil, fmt.Errorf("building %s: %w (install mmdebstrap)", d.Image, err)
	}
	tmp, err := os.MkdirTemp(o.workDir, "distill-stack-*")
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", d.Image, err)
	}
	defer os.RemoveAll(tmp)

	start := time.Now()
	rootTar := path.Join(tmp, "rootfs.tar")
	if err := mmdebstrap(ctx, d, &o, log, rootTar); err != nil {
		return nil, fmt.Errorf("building %s: %w", d.Image, err)
	}
	log.Info("packages unpacked", "took", time.Since(start).Round(time.Millisecond))

	f, err := os.Open(rootTar)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := indexTar(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", d.Image, err)
	}
	rfs, pkgs, err := selectRootfs(d, src)
	if err != nil {
		return nil, fmt.Errorf("building %s (%s): %w", d.Image, d.file, err)
	}
	layerTar := path.Join(tmp, "layer.tar")
	if err := writeLayerTar(layerTar, rfs, src); err != nil {
		return nil, fmt.Errorf("building %s: %w", d.Image, err)
	}
	f.Close()
	os.Remove(rootTar)

	layer, err := memoryLayer(layerTar, image.Gzip)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", d.Image, err)
	}
	img, err := assemble(d, layer, pkgs, o.arch)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", d.Image, err)
	}
	log.Info("image built", "took", time.Since(start).Round(time.Millisecond), "packages", len(pkgs))
	return img, nil
}

func splitMirrors(s string) []string {
	var out []string
	for _, m := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == '\n' }) {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// mmdebstrapArgs is the command line for d, writing a tarball to out.
func mmdebstrapArgs(d *Definition, arch, out string, mirrors []string) []string {
	names := make([]string, len(d.Packages))
	for i, p := range d.Packages {
		names[i] = p.Name
	}
	args := []string{
		"--variant=" + d.Variant,
		"--architectures=" + arch,
		"--format=tar",
		"--include=" + strings.Join(names, ","),
	}
	if d.Extract() {
		// Keep the downloaded .debs in the tarball: they give each
		// package's control file and file list.
		args = append(args, "--skip=cleanup/apt/cache")
	} else {
		for _, g := range d.Exclude {
			args = append(args, "--dpkgopt=path-exclude=/"+strings.ReplaceAll(g, "**", "*"))
		}
	}
	args = append(args, d.Suite, out)
	return append(args, mirrors...)
}

func mmdebstrap(ctx context.Context, d *Definition, o *buildOptions, log *slog.Logger, out string) error {
	args := mmdebstrapArgs(d, debArch(o.arch), out, o.mirrors)
	log.Info("running mmdebstrap", "args", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, o.tool, args...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(image.Epoch.Unix(), 10))
	// Let mmdebstrap unmount and clean its own directory on cancellation.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	tail := make([]string, 0, 20)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if o.progress != nil {
				fmt.Fprintln(o.progress, line)
			}
			log.Info(line, "source", "mmdebstrap")
			if len(tail) == cap(tail) {
				tail = append(tail[:0], tail[1:]...)
			}
			tail = append(tail, line)
		}
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("mmdebstrap: %w", ctx.Err())
		}
		return fmt.Errorf("mmdebstrap %s: %w\n%s", strings.Join(args, " "), err, strings.Join(tail, "\n"))
	}
	return nil
}

// selectRootfs chooses the image content from the unpacked tree and adds the
// generated files. It returns the packages recorded in the image.
func selectRootfs(d *Definition, src *tree) (rootfs, []PackageVersion, error) {
	rfs := rootfs{}
	var pkgs []PackageVersion
	u := d.User
	if d.Extract() {
		var err error
		if pkgs, err = selectPackages(d, src, rfs); err != nil {
			return nil, nil, err
		}
		rfs.addFile("etc/passwd", passwdFile(u), 0o644, 0, 0)
		rfs.addFile("etc/group", groupFile(u), 0o644, 0, 0)
	} else {
		for _, name := range src.names() {
			if !matchAny(d.Exclude, name) {
				rfs[name] = src.entries[name]
			}
		}
		status, err := src.read("var/lib/dpkg/status")
		if err != nil {
			return nil, nil, err
		}
		pkgs = installedPackages(status)
		for file, line := range map[string]string{"etc/passwd": passwdLine(u), "etc/group": groupLine(u)} {
			old, err := src.read(file)
			if err != nil {
				return nil, nil, err
			}
			data, err := appendAccount(old, line, 2)
			if err != nil {
				return nil, nil, ferr("user", "%s: %v", file, err)
			}
			e := src.entries[file]
			rfs.addFile(file, data, e.mode, e.uid, e.gid)
		}
	}
	if c := d.CABundle; c != nil {
		var certs []namedData
		for _, name := range src.names() {
			if ok, _ := doublestar.Match(c.Certs, name); ok && src.entries[name].typ == tar.TypeReg {
				data, err := src.read(name)
				if err != nil {
					return nil, nil, err
				}
				certs = append(certs, namedData{name, data})
			}
		}
		if len(certs) == 0 {
			return nil, nil, ferr("ca_bundle.certs", "%q matches no file", c.Certs)
		}
		bundle, err := caBundle(certs)
		if err != nil {
			return nil, nil, ferr("ca_bundle", "%v", err)
		}
		rfs.addFile(c.Path, bundle, 0o644, 0, 0)
	}
	rfs.addDir(strings.TrimPrefix(u.Home, "/"), 0o755, u.UID, u.GID)
	for _, dir := range d.Dirs {
		rfs.addDir(dir.Path, dir.mode, dir.UID, dir.GID)
	}
	for _, s := range d.Symlinks {
		rfs.addSymlink(s.Path, s.Target)
	}
	rfs.addParents(src)
	return rfs, pkgs, nil
}

// selectPackages puts the kept paths of d's packages (variant "extract") from
// src into rfs, with their status.d records (status_d): <pkg> and
// <pkg>.md5sums, the md5 of each regular file kept, as dpkg writes them.
func selectPackages(d *Definition, src *tree, rfs rootfs) ([]PackageVersion, error) {
	debs, err := readDebs(src)
	if err != nil {
		return nil, err
	}
	if err := checkDepends(d, debs); err != nil {
		return nil, err
	}
	var pkgs []PackageVersion
	for _, p := range d.Packages {
		pkg := debs[p.Name]
		var sums []string
		for _, name := range pkg.paths {
			if !keepPath(d, &p, name) {
				continue
			}
			e := src.entries[name]
			if e == nil {
				return nil, fmt.Errorf("%s of %s is missing from the unpacked tree", name, p.Name)
			}
			rfs[name] = e
			if d.StatusD && (e.typ == tar.TypeReg || e.link != nil) {
				h := md5.New()
				if _, err := io.Copy(h, src.open(e)); err != nil {
					return nil, fmt.Errorf("%s of %s: %w", name, p.Name, err)
				}
				sums = append(sums, hex.EncodeToString(h.Sum(nil))+"  "+name)
			}
		}
		pkgs = append(pkgs, PackageVersion{Name: pkg.name, Version: pkg.version})
		if d.StatusD {
			rec, err := dpkg.StatusRecord(pkg.control)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.Name, err)
			}
			rfs.addFile(dpkg.StatusDir+"/"+p.Name, rec, 0o644, 0, 0)
			if len(sums) > 0 {
				sort.Strings(sums)
				rfs.addFile(dpkg.StatusDir+"/"+p.Name+".md5sums", []byte(strings.Join(sums, "\n")+"\n"), 0o644, 0, 0)
			}
		}
	}
	return pkgs, nil
}

// checkDepends makes sure every dependency of a listed package is in the
// image, or deliberately dropped (packages[i].drop_depends): an extract has
// no dpkg to complain about a missing library.
func checkDepends(d *Definition, debs map[string]*debPackage) error {
	listed := map[string]bool{}
	for i, p := range d.Packages {
		if debs[p.Name] == nil {
			return ferr(fmt.Sprintf("packages[%d].name", i), "%q was not fetched (is it a virtual package?)", p.Name)
		}
		listed[p.Name] = true
	}
	for i, p := range d.Packages {
		dropped := map[string]bool{}
		for _, n := range p.DropDepends {
			dropped[n] = true
		}
	relations:
		for _, alts := range debs[p.Name].depends {
			for _, n := range alts {
				if listed[n] || dropped[n] {
					continue relations
				}
			}
			return ferr(fmt.Sprintf("packages[%d]", i),
				"%s depends on %s, which is not in the image: add it to packages, or to packages[%d].drop_depends if it is not needed at run time",
				p.Name, strings.Join(alts, " | "), i)
		}
	}
	return nil
}

// keepPath applies the definition's and the package's selection to a path
// the package ships.
func keepPath(d *Definition, p *Package, name string) bool {
	if matchAny(d.Exclude, name) || matchAny(p.Exclude, name) {
		return false
	}
	return p.keepAll || matchAny(p.Keep, name)
}

// readDebs loads the .debs mmdebstrap left in the apt cache, by package name.
func readDebs(src *tree) (map[string]*debPackage, error) {
	debs := map[string]*debPackage{}
	for _, name := range src.names() {
		if ok, _ := path.Match("var/cache/apt/archives/*.deb", name); !ok {
			continue
		}
		e := src.entries[name]
		if e.typ != tar.TypeReg {
			continue
		}
		pkg, err := readDeb(io.NewSectionReader(src.src, e.offset, e.size), name)
		if err != nil {
			return nil, err
		}
		debs[pkg.name] = pkg
	}
	if len(debs) == 0 {
		return nil, errors.New("mmdebstrap left no .deb in var/cache/apt/archives")
	}
	return debs, nil
}

func writeLayerTar(name string, rfs rootfs, src *tree) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := rfs.writeTar(bw, src); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// memoryLayer compresses the tarball and returns a layer backed by the
// compressed bytes alone, so that nothing stays on disk. Stack images are
// gzip: pack rebase and the Docker API (podman's included) hand images back
// as Docker manifests, which cannot carry zstd layers, so a run image must be
// gzip for apps built on it to be rebased and moved around by every tool.
func memoryLayer(tarFile string, c image.Compression) (v1.Layer, error) {
	in, err := os.Open(tarFile)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	var buf bytes.Buffer
	if err := image.Compress(&buf, bufio.NewReaderSize(in, 1<<20), c); err != nil {
		return nil, fmt.Errorf("compressing layer: %w", err)
	}
	os.Remove(tarFile) // free the disk early
	blob := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}, tarball.WithMediaType(c.MediaType()), tarball.WithCompression(c.Algorithm()))
}

// assemble wraps the layer into an OCI image for linux/arch (GOARCH) with
// d's config and labels.
func assemble(d *Definition, layer v1.Layer, pkgs []PackageVersion, arch string) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: image.Epoch},
			CreatedBy: "distill stack build " + d.Image,
			Comment:   fmt.Sprintf("debian %s (%s), %d packages", d.Suite, d.Variant, len(pkgs)),
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: image.Epoch}
	cf.OS, cf.Architecture = "linux", arch
	if arch == "arm64" {
		cf.Variant = "v8"
	}
	cf.Config.User = fmt.Sprintf("%d:%d", d.User.UID, d.User.GID)
	cf.Config.Env = nil
	for _, k := range slices.Sorted(maps.Keys(d.Env)) {
		cf.Config.Env = append(cf.Config.Env, k+"="+d.Env[k])
	}
	if _, ok := d.Env["PATH"]; !ok {
		cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, cf.Config.Env...)
	}
	sort.Strings(cf.Config.Env)
	list, err := json.Marshal(pkgs)
	if err != nil {
		return nil, err
	}
	cf.Config.Labels = map[string]string{}
	for k, v := range d.Labels {
		cf.Config.Labels[k] = v
	}
	cf.Config.Labels[cnbmeta.LabelStackID] = d.StackID
	cf.Config.Labels[cnbmeta.LabelDistroName] = d.Distro.Name
	cf.Config.Labels[cnbmeta.LabelDistroVersion] = d.Distro.Version
	if d.Title != "" {
		cf.Config.Labels[LabelTitle] = d.Title
	}
	cf.Config.Labels[cnbmeta.LabelStackPackages] = string(list)
	cf.Config.Labels[LabelDefinition] = d.Digest()
	return mutate.ConfigFile(img, cf)
}
