package lifecycle

import (
	"reflect"
	"slices"
	"testing"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/sandbox"
)

func TestTargetEnv(t *testing.T) {
	for _, tc := range []struct {
		arch string
		want []string
	}{
		{"amd64", []string{"CNB_TARGET_OS=linux", "CNB_TARGET_ARCH=amd64", "CNB_TARGET_DISTRO_NAME=debian", "CNB_TARGET_DISTRO_VERSION=13"}},
		{"arm64", []string{"CNB_TARGET_OS=linux", "CNB_TARGET_ARCH=arm64", "CNB_TARGET_ARCH_VARIANT=v8", "CNB_TARGET_DISTRO_NAME=debian", "CNB_TARGET_DISTRO_VERSION=13"}},
	} {
		if got := TargetFor("linux", tc.arch).env(""); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: env %q, want %q", tc.arch, got, tc.want)
		}
	}
}

// The target root reaches buildpacks read-only, named by DISTILL_TARGET_ROOT:
// at /cnb/target-root in a container, at its own path in place.
func TestTargetRoot(t *testing.T) {
	for _, tc := range []struct {
		name, modules, want string
	}{
		{"container", cnbDir, targetRootDir},
		{"in place", "", "/cache/rootfs/abc"},
	} {
		c := &container{dirs: &workDirs{modules: tc.modules}, target: TargetFor("linux", "arm64")}
		c.target.Root = "/cache/rootfs/abc"
		env := c.target.env(c.targetRoot())
		if !slices.Contains(env, buildpack.EnvTargetRoot+"="+tc.want) {
			t.Errorf("%s: env %q lacks %s=%s", tc.name, env, buildpack.EnvTargetRoot, tc.want)
		}
		want := sandbox.Mount{Source: "/cache/rootfs/abc", Destination: tc.want, ReadOnly: true}
		if !slices.Contains(c.mounts(), want) {
			t.Errorf("%s: mounts %+v lack %+v", tc.name, c.mounts(), want)
		}
	}
	native := &container{dirs: &workDirs{modules: cnbDir}, target: TargetFor("linux", "amd64")}
	for _, m := range native.mounts() {
		if m.Destination == targetRootDir {
			t.Errorf("a native build mounts a target root: %+v", m)
		}
	}
}
