package python

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/dpkg"
)

// foreignTarget is a build for an architecture other than the build image's: the interpreter
// comes from the target's Debian packages under Root, dependencies are wheels for Tags.
type foreignTarget struct {
	OS, Arch string   // CNB_TARGET_OS, CNB_TARGET_ARCH: "linux", "arm64"
	Root     string   // DISTILL_TARGET_ROOT: the target's Debian packages, extracted
	Tags     []string // pip --platform tags, most specific first
}

// root is where the Debian packages of the image's CPython and libraries are: t.Root, or "/"
// (the build image) for a native build (t nil).
func (t *foreignTarget) root() string {
	if t == nil {
		return "/"
	}
	return t.Root
}

// platform is OS/ARCH, as --platform takes it.
func (t *foreignTarget) platform() string { return t.OS + "/" + t.Arch }

// glibcMinor is trixie's glibc (2.41): the newest manylinux_2_N tag the target's run image runs.
const glibcMinor = 41

// wheelArch is the machine name wheel platform tags use for each foreign CNB_TARGET_ARCH the
// buildpack builds for.
var wheelArch = map[string]string{"arm64": "aarch64"}

// platformTags are the pip --platform tags of wheels that run on Debian trixie for arch
// (CNB_TARGET_ARCH): manylinux_2_41 down to manylinux_2_17 (PEP 600), manylinux2014 (its alias,
// PEP 599) and plain linux_<machine> (what local indexes built on trixie serve). An arch with no
// entry in wheelArch is an error.
func platformTags(arch string) ([]string, error) {
	m, ok := wheelArch[arch]
	if !ok {
		return nil, fmt.Errorf("no wheel platform tags for architecture %q", arch)
	}
	var tags []string
	for minor := glibcMinor; minor >= 17; minor-- {
		tags = append(tags, fmt.Sprintf("manylinux_2_%d_%s", minor, m))
	}
	return append(tags, "manylinux2014_"+m, "linux_"+m), nil
}

// targetOf is the build's foreign target, or nil for a native build. A foreign architecture
// without wheel tags, or without the target root the platform provides, is an error naming the
// platform to build for instead.
func targetOf(targetOS, targetArch string) (*foreignTarget, error) {
	if buildpack.NativeTarget(targetOS, targetArch, "Python apps") == nil {
		return nil, nil
	}
	tags, err := platformTags(targetArch)
	if targetOS != "linux" || err != nil {
		return nil, buildpack.NativeTarget(targetOS, targetArch, "Python apps")
	}
	root, ok := buildpack.TargetRoot()
	if !ok {
		return nil, fmt.Errorf("building Python apps for %s/%s needs the target's Debian packages (DISTILL_TARGET_ROOT), "+
			"which this platform does not provide: build with --platform %s/%s", targetOS, targetArch, runtime.GOOS, runtime.GOARCH)
	}
	return &foreignTarget{OS: targetOS, Arch: targetArch, Root: root, Tags: tags}, nil
}

// targetPython describes the target's CPython under t.Root from host, the build image's, and
// hostDeb, the Debian package of host.Bin: its binary, stdlib and lib-dynload under the root,
// and its version from its Debian package. The target must ship python<major.minor> of the
// host's (the host byte-compiles the target's stdlib and installs wheels for it); note says
// when the two Debian versions differ.
func targetPython(t *foreignTarget, host pythonInfo, hostDeb *dpkg.Package) (py pythonInfo, note string, err error) {
	bin := filepath.Join(t.Root, "usr", "bin", "python"+host.MajorMinor)
	stdlib := filepath.Join(t.Root, "usr", "lib", "python"+host.MajorMinor)
	for _, p := range []string{bin, filepath.Join(stdlib, "os.py")} {
		if !fileExists(p) {
			return py, "", fmt.Errorf("the %s packages in %s lack %s: the build image has CPython %s, and a build for %s "+
				"needs python%s from the same Debian suite", t.platform(), t.Root, strings.TrimPrefix(p, t.Root), host.Version, t.platform(), host.MajorMinor)
		}
	}
	deb, err := debianPackage(t.Root, bin)
	if err != nil {
		return py, "", err
	}
	v, ok := parsePyVersion(debianUpstream(deb.Version))
	if !ok || len(v.N) < 2 || (pyVersion{N: v.N[:2]}).String() != host.MajorMinor {
		return py, "", fmt.Errorf("%s in %s is %s %s, not CPython %s as the build image's: "+
			"the target's packages must come from the build image's Debian suite", bin, t.Root, deb.Name, deb.Version, host.MajorMinor)
	}
	if deb.Version != hostDeb.Version {
		note = fmt.Sprintf("%s is %s %s for %s, %s for the build image", bin, deb.Name, deb.Version, t.platform(), hostDeb.Version)
	}
	return pythonInfo{Bin: bin, Version: v, MajorMinor: host.MajorMinor, Stdlib: stdlib, Dynload: filepath.Join(stdlib, "lib-dynload")}, note, nil
}

// debianUpstream is the upstream part of a Debian version ("1:3.13.5-2+b1" → "3.13.5"):
// without the epoch and the Debian revision.
func debianUpstream(version string) string {
	if _, after, ok := strings.Cut(version, ":"); ok {
		version = after
	}
	if i := strings.LastIndex(version, "-"); i > 0 {
		version = version[:i]
	}
	return version
}

// debianPackage is the Debian package that installed file in root's dpkg database.
func debianPackage(root, file string) (*dpkg.Package, error) {
	db, err := dpkg.Open(root)
	if err != nil {
		return nil, fmt.Errorf("reading the Debian packages of %s: %w", root, err)
	}
	p, ok := db.Owner(file)
	if !ok {
		return nil, fmt.Errorf("no Debian package in %s installed %s", root, file)
	}
	return p, nil
}

// targetInstallArgs are the pip install arguments that put wheels for t into site (the
// venv's site-packages, or the project layer's) with the build image's pip: --target with the
// platform, interpreter and ABI of the target's CPython (pyMajorMinor, e.g. "3.13"), binary
// wheels only (pip cannot build a source distribution for another machine).
func targetInstallArgs(t *foreignTarget, pyMajorMinor, site string) []string {
	nodot := strings.ReplaceAll(pyMajorMinor, ".", "")
	args := []string{"install", "--no-compile", "--no-warn-script-location", "--target", site, "--only-binary=:all:",
		"--python-version", pyMajorMinor, "--implementation", "cp", "--abi", "cp" + nodot, "--abi", "abi3", "--abi", "none"}
	for _, tag := range t.Tags {
		args = append(args, "--platform", tag)
	}
	return args
}

// noWheelRE matches pip's resolver failures: the requirement is the last field.
var noWheelRE = regexp.MustCompile(`(?m)^ERROR: (?:No matching distribution found for|Could not find a version that satisfies the requirement) ([A-Za-z0-9][A-Za-z0-9._-]*)`)

// noTargetWheel turns pip's "no matching distribution" for a foreign build into an error
// naming the package and what to do; other errors come back as they are, and so does that one
// when pip could not reach the index (it says "Retrying" first: it saw no files at all).
func noTargetWheel(err error, out []byte, t *foreignTarget) error {
	m := noWheelRE.FindSubmatch(out)
	if m == nil || bytes.Contains(out, []byte("WARNING: Retrying (")) {
		return err
	}
	return fmt.Errorf("%s has no wheel for %s on the package index (a build for another architecture installs wheels only: "+
		"it cannot compile a source distribution): require a version of %s that ships manylinux %s wheels, or build with --platform %s/%s\n%w",
		m[1], t.platform(), m[1], wheelArch[t.Arch], runtime.GOOS, runtime.GOARCH, err)
}

// moveScripts moves the console scripts pip --target wrote into site/bin to binDir, with
// python (the venv's interpreter, as a native install writes it) in their shebang instead of
// the build image's. It returns the scripts' names.
func moveScripts(site, binDir, python string) ([]string, error) {
	src := filepath.Join(site, "bin")
	entries, err := os.ReadDir(src)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the scripts pip installed: %w", err)
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", binDir, err)
	}
	var names []string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading the script %s: %w", e.Name(), err)
		}
		if err := os.WriteFile(filepath.Join(binDir, e.Name()), reshebang(data, python), 0o755); err != nil {
			return nil, fmt.Errorf("writing the script %s: %w", e.Name(), err)
		}
		names = append(names, e.Name())
	}
	return names, os.RemoveAll(src)
}

// reshebang replaces the interpreter of a script whose shebang runs a python (pip writes
// "#!/usr/bin/python3", or for long paths a /bin/sh trampoline of three lines: "#!/bin/sh",
// "”'exec' PYTHON "$0" "$@"", "' ”'") with python; other files come back unchanged.
func reshebang(script []byte, python string) []byte {
	lines := bytes.SplitN(script, []byte("\n"), 4)
	if len(lines) == 4 && string(lines[0]) == "#!/bin/sh" && bytes.HasPrefix(lines[1], []byte("'''exec' ")) && string(lines[2]) == "' '''" {
		return append([]byte("#!"+python+"\n"), lines[3]...)
	}
	first, rest, _ := bytes.Cut(script, []byte("\n"))
	interp := bytes.Fields(bytes.TrimPrefix(first, []byte("#!")))
	if !bytes.HasPrefix(first, []byte("#!")) || len(interp) == 0 || !strings.HasPrefix(filepath.Base(string(interp[0])), "python") {
		return script
	}
	return append([]byte("#!"+python+"\n"), rest...)
}
