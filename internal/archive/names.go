package archive

import (
	"fmt"
	"path"
	"strings"
)

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
	// maxSymlinks bounds symlink resolution (the kernel's limit is 40).
	maxSymlinks = 40
)

// entryName cleans a tar entry name to a slash path relative to the
// destination ("" for the destination itself). Names with a ".." component
// are refused; absolute names are refused unless layer is set, where they are
// taken from the root (layer.md: paths are relative to the root).
func entryName(name string, layer bool) (string, error) {
	if path.IsAbs(name) && !layer {
		return "", fmt.Errorf("absolute name: %w", ErrEscape)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("name climbs with \"..\": %w", ErrEscape)
		}
	}
	p := path.Clean(strings.TrimLeft(name, "/"))
	if p == "." {
		return "", nil
	}
	return p, nil
}

func under(prefixes []string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				return name, true
			}
		}
		return "", false
	}
}

func strip(n int) func(string) (string, bool) {
	return func(name string) (string, bool) {
		parts := strings.SplitN(name, "/", n+1)
		if len(parts) <= n {
			return "", false
		}
		return parts[n], true
	}
}
