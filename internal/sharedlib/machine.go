package sharedlib

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// elfMagic opens every ELF file (ELF(5), e_ident[EI_MAG0..EI_MAG3]).
var elfMagic = []byte("\x7fELF")

// MachineFor is the ELF machine of binaries for a GOARCH name ("amd64", "arm64"); an architecture
// distill does not build for is an error naming it.
func MachineFor(goarch string) (elf.Machine, error) {
	switch goarch {
	case "amd64":
		return elf.EM_X86_64, nil
	case "arm64":
		return elf.EM_AARCH64, nil
	}
	return elf.EM_NONE, fmt.Errorf("no ELF machine known for architecture %q (distill builds for amd64 and arm64)", goarch)
}

// Machine reads the ELF machine of file (e_machine: EM_X86_64, EM_AARCH64, ...). ok is false for a
// file that is not ELF: no ELF magic, or a header debug/elf cannot parse. Only an unreadable file
// is an error.
func Machine(file string) (m elf.Machine, ok bool, err error) {
	f, err := os.Open(file)
	if err != nil {
		return elf.EM_NONE, false, fmt.Errorf("reading %s: %w", file, err)
	}
	defer f.Close()
	magic := make([]byte, len(elfMagic))
	if _, err := io.ReadFull(f, magic); err != nil || !bytes.Equal(magic, elfMagic) {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return elf.EM_NONE, false, fmt.Errorf("reading %s: %w", file, err)
		}
		return elf.EM_NONE, false, nil
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return elf.EM_NONE, false, nil // ELF magic, but no ELF file the loader would take
	}
	return ef.Machine, true, nil
}

// Foreign is an ELF file of another machine than the one wanted.
type Foreign struct {
	Path    string      // the file, under the directory searched
	Machine elf.Machine // what it is built for
}

// ForeignELFs walks dir (symbolic links are not followed, so a file is seen once, where it is)
// and returns its regular ELF files whose machine is not want, sorted by path. A dir that does
// not exist holds none.
func ForeignELFs(dir string, want elf.Machine) ([]Foreign, error) {
	var out []Foreign
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipAll
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		m, ok, err := Machine(p)
		if err != nil {
			return err
		}
		if ok && m != want {
			out = append(out, Foreign{Path: p, Machine: m})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for ELF files other than %s in %s: %w", want, dir, err)
	}
	slices.SortFunc(out, func(a, b Foreign) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}
