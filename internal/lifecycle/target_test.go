package lifecycle

import (
	"reflect"
	"testing"
)

func TestTargetEnv(t *testing.T) {
	for _, tc := range []struct {
		arch string
		want []string
	}{
		{"amd64", []string{"CNB_TARGET_OS=linux", "CNB_TARGET_ARCH=amd64", "CNB_TARGET_DISTRO_NAME=debian", "CNB_TARGET_DISTRO_VERSION=13"}},
		{"arm64", []string{"CNB_TARGET_OS=linux", "CNB_TARGET_ARCH=arm64", "CNB_TARGET_ARCH_VARIANT=v8", "CNB_TARGET_DISTRO_NAME=debian", "CNB_TARGET_DISTRO_VERSION=13"}},
	} {
		if got := TargetFor("linux", tc.arch).env(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: env %q, want %q", tc.arch, got, tc.want)
		}
	}
}
