package platform

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/lifecycle"
)

// supportedArchs are the architectures distill builds for (GOARCH names):
// run images come from Debian packages of that architecture.
var supportedArchs = []string{"amd64", "arm64"}

// HostPlatform is linux on the running architecture, with the variant OCI
// indexes give it (arm64: v8).
func HostPlatform() v1.Platform {
	return platformFor(lifecycle.DefaultTarget())
}

func platformFor(t lifecycle.Target) v1.Platform {
	return v1.Platform{OS: t.OS, Architecture: t.Arch, Variant: t.ArchVariant}
}

// ParsePlatforms reads --platform values: each a comma-separated list of
// OS/ARCH[/VARIANT] (linux/amd64,linux/arm64), in the order given, without
// duplicates. No value at all is the host's platform. Only linux/amd64 and
// linux/arm64 (variant v8) are accepted; anything else is an error naming
// the value.
func ParsePlatforms(values []string) ([]v1.Platform, error) {
	var out []v1.Platform
	seen := map[string]bool{}
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			p, err := parsePlatform(s)
			if err != nil {
				return nil, err
			}
			if seen[p.String()] {
				return nil, fmt.Errorf("--platform %q: %s is given twice", v, p)
			}
			seen[p.String()] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = []v1.Platform{HostPlatform()}
	}
	return out, nil
}

func parsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("--platform %q: want OS/ARCH, e.g. linux/amd64 or linux/arm64", s)
	}
	if parts[0] != "linux" {
		return v1.Platform{}, fmt.Errorf("--platform %q: distill builds linux images only", s)
	}
	arch := parts[1]
	if arch == "x86_64" {
		arch = "amd64"
	} else if arch == "aarch64" {
		arch = "arm64"
	}
	if !slices.Contains(supportedArchs, arch) {
		return v1.Platform{}, fmt.Errorf("--platform %q: no run images for %s: distill builds for linux/%s", s, arch, strings.Join(supportedArchs, ", linux/"))
	}
	p := platformFor(lifecycle.TargetFor("linux", arch))
	if len(parts) == 3 && parts[2] != p.Variant {
		return v1.Platform{}, fmt.Errorf("--platform %q: variant %q of %s is not supported (want %q)", s, parts[2], arch, p.Variant)
	}
	return p, nil
}

// isHost reports whether p is the running platform.
func isHost(p v1.Platform) bool {
	return p.OS == "linux" && p.Architecture == runtime.GOARCH
}

// platformCacheDir is the build cache of platform p: dir itself for the
// host's platform (so a host-only build uses the cache it always did), dir
// with "-OS-ARCH" appended for any other, so caches of two platforms never mix.
func platformCacheDir(dir string, p v1.Platform) string {
	if isHost(p) {
		return dir
	}
	return dir + "-" + p.OS + "-" + p.Architecture
}
