package builderimage

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/distill-build/distill/internal/builder"
	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/sharedlib"
)

// errStop ends a tar walk once the wanted entry is read.
var errStop = errors.New("stop")

// CheckELF checks that the file at path is an ELF executable for GOARCH
// arch (amd64: EM_X86_64, arm64: EM_AARCH64). what names the file in the
// error ("--binary linux/arm64=PATH"), which says which machine it is for.
func CheckELF(path, arch, what string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	return checkMachine(f, arch, what+" "+path)
}

// checkLifecycleArch checks that lc's lifecycle executable
// (lifecycle/lifecycle in the tarball) is for GOARCH arch.
func checkLifecycleArch(ctx context.Context, lc *Lifecycle, arch string) error {
	what := "lifecycle tarball " + lc.Path
	var data []byte
	err := lc.walk(ctx, func(name string, hdr *tar.Header, r io.Reader) error {
		if name != "lifecycle/lifecycle" || hdr.Typeflag != tar.TypeReg {
			return nil
		}
		var err error
		if data, err = io.ReadAll(r); err != nil {
			return err
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	if data == nil {
		return fmt.Errorf("%s has no lifecycle/lifecycle executable: not a CNB lifecycle tarball", what)
	}
	return checkMachine(bytes.NewReader(data), arch, what)
}

// checkMachine reads r as an ELF file and compares its machine with arch's.
func checkMachine(r io.ReaderAt, arch, what string) error {
	want, err := sharedlib.MachineFor(arch)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return fmt.Errorf("%s is not an ELF executable (%v): give one built for linux/%s", what, err, arch)
	}
	if f.Machine != want {
		return fmt.Errorf("%s is for %s, not linux/%s (%s): give the linux/%s build", what, f.Machine, arch, want, arch)
	}
	return nil
}

// withBinary returns d, or for a module bin runs, a copy of d under staging
// whose bin/ is bin (PrepareModule): a builder for another architecture
// carries that architecture's distill binary, while d keeps the host's.
func withBinary(d *buildpack.Descriptor, bin *builder.Binary, staging string) (*buildpack.Descriptor, error) {
	if bin == nil || !bin.Runs(d.Info().ID) {
		return d, nil
	}
	dst, err := os.MkdirTemp(staging, "distill-module-*")
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(d.Dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(d.Dir, p)
		if rel == "bin" { // PrepareModule writes bin/ afresh
			return filepath.SkipDir
		}
		return copyEntry(p, filepath.Join(dst, rel), e)
	})
	if err != nil {
		return nil, fmt.Errorf("copying %s %s to %s: %w", d.Kind(), d.Key(), dst, err)
	}
	return builder.PrepareModule(dst, bin)
}

// copyEntry copies one directory, regular file or symlink.
func copyEntry(src, dst string, e fs.DirEntry) error {
	switch {
	case e.IsDir():
		return os.MkdirAll(dst, 0o755)
	case e.Type()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	}
	info, err := e.Info()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, info.Mode().Perm())
}

// CheckLifecycle checks that the lifecycle tarball at path is readable and
// its executables are for GOARCH arch; flag names it in the error
// ("--lifecycle linux/arm64=FILE").
func CheckLifecycle(ctx context.Context, path, arch, flag string) error {
	lc, err := ReadLifecycle(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if err := checkLifecycleArch(ctx, lc, arch); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	return nil
}
