package builder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/distill-build/distill/internal/buildpack"
)

// Binary is the multi-call program that runs the buildpacks and extensions
// compiled into it: the distill executable. Installed as a module's
// bin/build (bin/generate for an extension), with bin/detect a symlink to it,
// it runs that module.
type Binary struct {
	// Path is the executable's path on the host.
	Path string
	// Runs reports whether the binary runs the module with this id.
	Runs func(id string) bool

	sum string // hex SHA-256 of the executable, computed once
}

// Digest is the hex SHA-256 of the executable's contents.
func (b *Binary) Digest() (string, error) {
	if b.sum != "" {
		return b.sum, nil
	}
	f, err := os.Open(b.Path)
	if err != nil {
		return "", fmt.Errorf("reading the distill executable: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", b.Path, err)
	}
	b.sum = hex.EncodeToString(h.Sum(nil))
	return b.sum, nil
}

// stampFile records, next to an installed binary, the digest it was copied from.
const stampFile = ".distill-sha256"

// PrepareModule makes dir a runnable buildpack or extension. A module the
// binary runs gets the binary as bin/build (or bin/generate) and bin/detect,
// replaced when the binary changes; any other module must already carry
// them, as pack requires (distill compiles nothing). bin may be nil: then
// every module must carry its bin/.
func PrepareModule(dir string, bin *Binary) (*buildpack.Descriptor, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	desc, err := buildpack.ReadDescriptor(dir)
	if err != nil {
		return nil, err
	}
	main := "build"
	if desc.IsExtension() {
		main = "generate"
	}
	if bin != nil && bin.Runs(desc.Info().ID) {
		if err := bin.install(filepath.Join(dir, "bin"), main); err != nil {
			return nil, fmt.Errorf("installing %s into %s: %w", desc.Key(), dir, err)
		}
		return desc, nil
	}
	for _, name := range []string{"detect", main} {
		if _, err := os.Stat(filepath.Join(dir, "bin", name)); err != nil {
			return nil, fmt.Errorf("%s: no bin/%s: not a runnable %s (build it into bin/ first)", dir, name, desc.Kind())
		}
	}
	return desc, nil
}

// install copies the binary to binDir/main, unless the copy there is already
// of this binary, and links binDir/detect to it. The copy is written under a
// temporary name and renamed, so a failed install leaves no half-written file.
func (b *Binary) install(binDir, main string) error {
	sum, err := b.Digest()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(binDir, main)
	if have, err := os.ReadFile(filepath.Join(binDir, stampFile)); err != nil || !bytes.Equal(have, []byte(sum)) || !exists(dst) {
		if err := copyExecutable(b.Path, dst); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(binDir, stampFile), []byte(sum), 0o644); err != nil {
			return err
		}
	}
	link := filepath.Join(binDir, "detect")
	if target, err := os.Readlink(link); err == nil && target == main {
		return nil
	}
	os.Remove(link)
	return os.Symlink(main, link)
}

// copyExecutable puts src at dst: a hard link where both are on one file
// system, else a copy; written under a temporary name, then renamed.
func copyExecutable(src, dst string) error {
	if linkExecutable(src, dst) == nil {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	in, err := os.Open(src)
	if err != nil {
		tmp.Close()
		return err
	}
	defer in.Close()
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// linkExecutable hard-links src as dst (through a temporary name); it fails
// across file systems and mounts, where copyExecutable copies instead.
func linkExecutable(src, dst string) error {
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+"-link-"+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
