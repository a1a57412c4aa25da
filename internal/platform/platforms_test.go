package platform

import (
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParsePlatforms(t *testing.T) {
	amd := v1.Platform{OS: "linux", Architecture: "amd64"}
	arm := v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	for _, tc := range []struct {
		name    string
		in      []string
		want    []v1.Platform
		wantErr string
	}{
		{"none is the host's", nil, []v1.Platform{HostPlatform()}, ""},
		{"one", []string{"linux/arm64"}, []v1.Platform{arm}, ""},
		{"comma list keeps order", []string{"linux/arm64,linux/amd64"}, []v1.Platform{arm, amd}, ""},
		{"repeated flag", []string{"linux/amd64", "linux/arm64"}, []v1.Platform{amd, arm}, ""},
		{"variant", []string{"linux/arm64/v8"}, []v1.Platform{arm}, ""},
		{"uname names", []string{"linux/x86_64,linux/aarch64"}, []v1.Platform{amd, arm}, ""},
		{"twice", []string{"linux/amd64,linux/amd64"}, nil, "given twice"},
		{"no arch", []string{"linux"}, nil, "want OS/ARCH"},
		{"other os", []string{"windows/amd64"}, nil, "linux images only"},
		{"unsupported arch", []string{"linux/riscv64"}, nil, "no run images for riscv64"},
		{"wrong variant", []string{"linux/arm64/v7"}, nil, "variant \"v7\""},
		{"empty item", []string{"linux/amd64,"}, nil, "want OS/ARCH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePlatforms(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePlatforms(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].Equals(tc.want[i]) {
					t.Errorf("platform %d: got %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestPlatformCacheDir(t *testing.T) {
	host := HostPlatform()
	other := v1.Platform{OS: "linux", Architecture: "arm64"}
	if runtime.GOARCH == "arm64" {
		other.Architecture = "amd64"
	}
	for _, tc := range []struct {
		p    v1.Platform
		want string
	}{
		{host, "/c/app"},
		{other, "/c/app-linux-" + other.Architecture},
	} {
		if got := platformCacheDir("/c/app", tc.p); got != tc.want {
			t.Errorf("platformCacheDir(%s) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
