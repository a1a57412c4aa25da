package golang

import (
	"fmt"
	"os/exec"
	"strings"
)

// crossTarget is the platform the binaries are for: CNB_TARGET_OS and
// CNB_TARGET_ARCH (GOOS/GOARCH names, Buildpack API 0.10), and the
// toolchain's own GOHOSTOS/GOHOSTARCH.
type crossTarget struct {
	OS, Arch         string
	HostOS, HostArch string
}

// foreign reports whether the binaries run elsewhere than the toolchain.
func (t crossTarget) foreign() bool {
	return (t.OS != "" && t.OS != t.HostOS) || (t.Arch != "" && t.Arch != t.HostArch)
}

func (t crossTarget) String() string { return t.OS + "/" + t.Arch }

// crossEnv is the go environment for t: nothing when t is the toolchain's
// own platform (a native build, as without a target), else GOOS and GOARCH.
// A foreign target with CGO_ENABLED=1 asked for (cgo, the user's value; set
// whether the user set it) is an error: the build image has no C
// cross-compiler, and binaries must never silently be for another
// architecture than the image's.
func crossEnv(t crossTarget, cgo string, set bool) (map[string]string, error) {
	if !t.foreign() {
		return map[string]string{}, nil
	}
	if set && cgo == "1" {
		return nil, fmt.Errorf("CGO_ENABLED=1 is set, but cgo cannot cross-compile for %s: the build image has no C compiler for %s. Build without cgo (unset CGO_ENABLED or set CGO_ENABLED=0), or build for %s/%s only (--platform %s/%s)", t, t.Arch, t.HostOS, t.HostArch, t.HostOS, t.HostArch)
	}
	return map[string]string{"GOOS": t.OS, "GOARCH": t.Arch}, nil
}

// cgoError is the error for an app whose packages (pkgs, import paths) use
// cgo when building for the foreign target t, or nil when none does.
func cgoError(t crossTarget, pkgs []string) error {
	if len(pkgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s import \"C\" (cgo), which cannot be cross-compiled for %s: the build image has no C compiler for %s. Make them build without cgo (files with //go:build !cgo, or drop import \"C\") and set CGO_ENABLED=0 to build without their cgo files, or build for %s/%s only (--platform %s/%s)",
		strings.Join(pkgs, ", "), t, t.Arch, t.HostOS, t.HostArch, t.HostOS, t.HostArch)
}

// cgoPackages lists the app's packages (not the standard library's) that
// the targets depend on and that have cgo files when built with cgo for
// GOOS/GOARCH of env: go list -deps with CGO_ENABLED=1.
func cgoPackages(goBin, appDir string, env []string, targets []target) ([]string, error) {
	args := []string{"list", "-deps", "-f", "{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}"}
	for _, t := range targets {
		args = append(args, t.Package)
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = appDir
	cmd.Env = append(env, "CGO_ENABLED=1")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("listing the packages that use cgo (go %s): %w\n%s", strings.Join(args, " "), err, msg)
	}
	return strings.Fields(string(out)), nil
}
