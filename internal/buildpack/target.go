package buildpack

import (
	"fmt"
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
