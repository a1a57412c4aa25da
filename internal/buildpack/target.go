package buildpack

import (
	"fmt"
	"os"
	"runtime"
)

// NativeTarget checks that the build's target (CNB_TARGET_OS and
// CNB_TARGET_ARCH, Buildpack API 0.10: targetOS, targetArch; "" when the
// platform gives none) is the platform the buildpack runs on. Buildpacks that
// put binaries of the build image's architecture into the image call it, so
// they never ship them into an image for another: the error names apps (e.g.
// "Node.js apps") and the platform to build for instead.
func NativeTarget(targetOS, targetArch, apps string) error {
	if (targetOS == "" || targetOS == runtime.GOOS) && (targetArch == "" || targetArch == runtime.GOARCH) {
		return nil
	}
	return fmt.Errorf("%s/%s is not supported yet for %s: build with --platform %s/%s", targetOS, targetArch, apps, runtime.GOOS, runtime.GOARCH)
}

// EnvTargetRoot names the target root in a buildpack's environment: for a
// target architecture other than the build image's, the directory holding
// the Debian packages of that architecture that buildpacks copy into launch
// layers instead of the build image's own (a dynamic runtime's libraries,
// CPython), read-only, with their dpkg records (var/lib/dpkg/status.d/<pkg>
// and <pkg>.md5sums). distill sets it (stacks/build-target.toml); other
// platforms do not, and a native build never has it.
const EnvTargetRoot = "DISTILL_TARGET_ROOT"

// TargetRoot is $DISTILL_TARGET_ROOT (EnvTargetRoot) and whether it is set.
func TargetRoot() (string, bool) {
	root := os.Getenv(EnvTargetRoot)
	return root, root != ""
}
