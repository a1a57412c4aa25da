package platform

import (
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
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

func TestImageIndex(t *testing.T) {
	platforms := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
	var imgs []v1.Image
	for range platforms {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	idx, err := imageIndex(platforms, imgs)
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s, want %s", mt, types.OCIImageIndex)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 {
		t.Fatalf("%d manifests, want 2", len(m.Manifests))
	}
	for i, d := range m.Manifests {
		want, _ := imgs[i].Digest()
		if d.Digest != want || d.Platform == nil || !d.Platform.Equals(platforms[i]) {
			t.Errorf("manifest %d: %s %v, want %s %v", i, d.Digest, d.Platform, want, platforms[i])
		}
		if mt, _ := imgs[i].MediaType(); d.MediaType != mt {
			t.Errorf("manifest %d media type %s, want %s", i, d.MediaType, mt)
		}
	}
	if _, err := imageIndex(platforms, imgs[:1]); err == nil {
		t.Error("imageIndex with fewer images than platforms: no error")
	}
}
