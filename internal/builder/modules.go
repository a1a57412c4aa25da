package builder

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/distill-build/distill/internal/buildpack"
)

// PrepareModule makes dir a runnable buildpack or extension: when it holds Go
// sources, its main package is compiled (static, stripped) into bin/, with
// bin/detect (and bin/generate for extensions) linked to the binary; the go
// command's own cache makes this cheap when nothing changed. A directory
// without Go sources must already carry bin/.
func PrepareModule(ctx context.Context, dir string, log io.Writer) (*buildpack.Descriptor, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	desc, err := buildpack.ReadDescriptor(dir)
	if err != nil {
		return nil, err
	}
	main := "build"
	links := []string{"detect"}
	if desc.IsExtension() {
		main, links = "generate", []string{"detect"}
	}
	sources, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	bin := filepath.Join(dir, "bin")
	if len(sources) == 0 {
		for _, name := range append(links, main) {
			if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
				return nil, fmt.Errorf("%s: no Go sources and no bin/%s: not a runnable %s", dir, name, kindOf(desc))
			}
		}
		return desc, nil
	}
	fmt.Fprintf(log, "Compiling %s %s\n", desc.Info().ID, desc.Info().Version)
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	out := filepath.Join(bin, main)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("compiling %s in %s: %w\n%s", kindOf(desc), dir, err, b)
	}
	for _, l := range links {
		p := filepath.Join(bin, l)
		if target, err := os.Readlink(p); err == nil && target == main {
			continue
		}
		os.Remove(p)
		if err := os.Symlink(main, p); err != nil {
			return nil, err
		}
	}
	return desc, nil
}

func kindOf(d *buildpack.Descriptor) string {
	if d.IsExtension() {
		return "extension"
	}
	return "buildpack"
}
