package buildpack

import (
	"runtime"
	"strings"
	"testing"
)

func TestNativeTarget(t *testing.T) {
	foreign := "arm64"
	if runtime.GOARCH == "arm64" {
		foreign = "amd64"
	}
	for _, tc := range []struct {
		name, os, arch string
		wantErr        bool
	}{
		{"no target", "", "", false},
		{"host", runtime.GOOS, runtime.GOARCH, false},
		{"arch only", "", runtime.GOARCH, false},
		{"foreign arch", "linux", foreign, true},
		{"foreign os", "windows", runtime.GOARCH, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NativeTarget(tc.os, tc.arch, "Node.js apps")
			if (err != nil) != tc.wantErr {
				t.Fatalf("NativeTarget(%q, %q) = %v, want error %v", tc.os, tc.arch, err, tc.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), "not supported yet for Node.js apps") || !strings.Contains(err.Error(), "--platform linux/"+runtime.GOARCH)) {
				t.Errorf("error %q does not name the apps and the platform to use", err)
			}
		})
	}
}
