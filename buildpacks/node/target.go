package node

// Building for another architecture than the build image's (CNB_TARGET_ARCH): the package
// managers run on the build image's Node.js, told to install the target's packages, and what goes
// into the image is checked to hold no ELF file of another machine.

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/distill-build/distill/internal/sharedlib"
)

// nodeArch is Node.js's name (process.arch, npm's cpu field) of a GOARCH: amd64 is x64.
func nodeArch(goarch string) string {
	if goarch == "amd64" {
		return "x64"
	}
	return goarch
}

// targetInstallEnv is what the package managers' installs need to pick the target's packages;
// nil on a native build. npm (10+) picks optional dependencies such as @esbuild/linux-arm64 by
// npm_config_cpu and npm_config_os; node-gyp, prebuild-install and node-pre-gyp read
// npm_config_arch (npm passes it on to install scripts, and pnpm and Yarn classic read the
// npm_config_ variables too).
func targetInstallEnv() map[string]string {
	if !foreignTarget() {
		return nil
	}
	arch := nodeArch(targetArch())
	return map[string]string{"npm_config_arch": arch, "npm_config_target_arch": arch, "npm_config_cpu": arch, "npm_config_os": "linux"}
}

// pnpmTargetFlags is the first pnpm release whose install takes --cpu, --os and --libc (its
// supportedArchitectures on the command line).
var pnpmTargetFlags = semver.MustParse("10.14.0")

// targetInstallArgs are the install command's flags that pick the target's optional packages:
// pnpm 10.14+ --cpu/--os/--libc; none for npm (its environment says it) or a native build.
func targetInstallArgs(pm packageManager) []string {
	if !foreignTarget() || pm.Kind != PMPnpm {
		return nil
	}
	if v, err := semver.NewVersion(pm.Version); err != nil || v.LessThan(pnpmTargetFlags) {
		return nil
	}
	return []string{"--cpu=" + nodeArch(targetArch()), "--os=linux", "--libc=" + targetLibc}
}

// prebuildDir is a node-gyp-build / prebuildify prebuild directory name: <platform>-<arch>[+<arch>...]
// (linux-x64, darwin-x64+arm64, android-arm64).
var prebuildDir = regexp.MustCompile(`^([a-z0-9]+)-([a-z0-9]+(?:\+[a-z0-9]+)*)$`)

// dropForeignPrebuilds removes from a node_modules tree the prebuilds/<platform>-<arch>
// directories (node-gyp-build, prebuildify) of any platform but linux on the target's
// architecture, and returns how many it removed.
func dropForeignPrebuilds(tree, goarch string) (int, error) {
	want := nodeArch(goarch)
	var drop []string
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == tree && os.IsNotExist(err) {
				return filepath.SkipAll
			}
			return err
		}
		if !d.IsDir() || filepath.Base(filepath.Dir(p)) != "prebuilds" || packageDirOf(p) == "" {
			return nil
		}
		m := prebuildDir.FindStringSubmatch(d.Name())
		if m == nil {
			return nil
		}
		if m[1] != "linux" || !slices.Contains(strings.Split(m[2], "+"), want) {
			drop = append(drop, p)
		}
		return filepath.SkipDir
	})
	if err != nil {
		return 0, fmt.Errorf("looking for prebuilds of other platforms in %s: %w", tree, err)
	}
	for _, p := range drop {
		if err := os.RemoveAll(p); err != nil {
			return 0, fmt.Errorf("removing the prebuilds %s: %w", p, err)
		}
	}
	return len(drop), nil
}

// checkMachine fails on the first ELF file under dirs that is not for goarch, naming its package
// (the node_modules path), the machine found and the one wanted, and the ways out.
func checkMachine(goarch string, dirs ...string) error {
	want, err := sharedlib.MachineFor(goarch)
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		foreign, err := sharedlib.ForeignELFs(dir, want)
		if err != nil {
			return err
		}
		if len(foreign) > 0 {
			return foreignELFError(dir, goarch, want, foreign)
		}
	}
	return nil
}

// foreignELFError says which package holds files of another machine than want (the first three
// named), and what to do.
func foreignELFError(dir, goarch string, want elf.Machine, foreign []sharedlib.Foreign) error {
	f := foreign[0]
	what, fix := "the app", fmt.Sprintf("use a version of it that ships linux-%s prebuilds (or a pure JavaScript alternative)", nodeArch(goarch))
	if pkg := packageDirOf(f.Path); pkg != "" {
		what = "package " + modulesPath(pkg)
	} else if name := packageNameOf(dir, f.Path); name != "" {
		what = "the app's package " + name
		fix = fmt.Sprintf("ship its addon prebuilt for linux-%s (prebuildify, node-gyp-build)", nodeArch(goarch))
	}
	var files []string
	for _, x := range foreign[:min(3, len(foreign))] {
		files = append(files, fmt.Sprintf("%s (%s)", relTo(dir, x.Path), machineName(x.Machine)))
	}
	if len(foreign) > 3 {
		files = append(files, fmt.Sprintf("%d more", len(foreign)-3))
	}
	return fmt.Errorf("%s holds machine code for another architecture than the linux/%s image's (%s): %s; "+
		"it was built or downloaded for the build image (linux/%s) at install: %s, or build with --platform linux/%s",
		what, goarch, machineName(want), strings.Join(files, ", "), runtime.GOARCH, fix, runtime.GOARCH)
}

// machineName is how people name an ELF machine: its GOARCH, e.g. "arm64", else debug/elf's name.
func machineName(m elf.Machine) string {
	for _, arch := range []string{"amd64", "arm64"} {
		if want, _ := sharedlib.MachineFor(arch); want == m {
			return arch
		}
	}
	return m.String()
}

// packageNameOf is the name in the nearest package.json above file, up to dir ("" for none).
func packageNameOf(dir, file string) string {
	for d := filepath.Dir(file); strings.HasPrefix(d, dir); d = filepath.Dir(d) {
		if name, _, err := readLibc(filepath.Join(d, "package.json")); err == nil && name != "" {
			return name
		}
		if d == dir || filepath.Dir(d) == d {
			break
		}
	}
	return ""
}

// modulesPath is a package directory from its first node_modules on (node_modules/bcrypt,
// node_modules/.pnpm/x@1/node_modules/x).
func modulesPath(pkgDir string) string {
	parts := strings.Split(filepath.ToSlash(pkgDir), "/")
	for i, p := range parts {
		if p == "node_modules" {
			return strings.Join(parts[i:], "/")
		}
	}
	return pkgDir
}

// dropPrebuilds removes, on a build for another architecture, the prebuilds of other platforms
// from a node_modules tree that goes into the image, and says how many.
func (b *Builder) dropPrebuilds(tree string) error {
	if !foreignTarget() {
		return nil
	}
	n, err := dropForeignPrebuilds(tree, targetArch())
	if err != nil {
		return err
	}
	if n > 0 {
		b.Logger.Bodyf("node_modules: left out %d prebuilds/ director(ies) of other platforms than linux-%s", n, nodeArch(targetArch()))
	}
	return nil
}

// checkImageMachine checks, on a build for another architecture, that the app and every launch
// layer of the result hold ELF files of the target's machine only (native addons, bin/node, its
// libraries, the static server).
func (b *Builder) checkImageMachine(r *buildRun) error {
	if !foreignTarget() {
		return nil
	}
	dirs := []string{r.appDir}
	for _, l := range r.result.Layers {
		if l.LayerTypes.Launch {
			dirs = append(dirs, l.Path)
		}
	}
	if err := checkMachine(targetArch(), dirs...); err != nil {
		return err
	}
	b.Logger.Bodyf("Checked the app and %d launch layer(s): every ELF file is for linux/%s", len(dirs)-1, targetArch())
	return nil
}

// berryHomeDir is where, under the package managers' cache layer, Yarn Berry's user
// configuration for a foreign target lies.
const berryHomeDir = "yarn-berry-home"

// berryTargetHome writes, for a build for another architecture, a .yarnrc.yml whose
// supportedArchitectures is linux on the target's CPU with glibc into <cacheDir>/yarn-berry-home,
// and returns that directory, to be Yarn Berry's HOME: Berry reads supportedArchitectures (a map)
// from .yarnrc.yml files only, not from YARN_ variables, and the home one ranks below the app's
// own. "" on a native build.
func berryTargetHome(cacheDir string) (string, error) {
	if !foreignTarget() {
		return "", nil
	}
	home := filepath.Join(cacheDir, berryHomeDir)
	rc := filepath.Join(home, ".yarnrc.yml")
	body := fmt.Sprintf("# distill: the image is for linux/%s\nsupportedArchitectures:\n  os: [linux]\n  cpu: [%s]\n  libc: [%s]\n",
		targetArch(), nodeArch(targetArch()), targetLibc)
	if err := os.MkdirAll(home, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", home, err)
	}
	if err := os.WriteFile(rc, []byte(body), 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", rc, err)
	}
	return home, nil
}

// targetBerry has Yarn Berry install the target's packages on a build for another architecture:
// its HOME is berryTargetHome's directory.
func (b *Builder) targetBerry(r *buildRun) error {
	if r.pm.Kind != PMBerry {
		return nil
	}
	home, err := berryTargetHome(r.cacheLayer.Path)
	if err != nil || home == "" {
		return err
	}
	r.env.set["HOME"] = home
	b.Logger.Bodyf("Yarn %s: supportedArchitectures linux/%s/%s from %s (HOME of the yarn commands), so it installs the image's platform packages", r.pm.Version, nodeArch(targetArch()), targetLibc, filepath.Join(home, ".yarnrc.yml"))
	return nil
}
