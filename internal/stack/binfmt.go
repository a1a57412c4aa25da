package stack

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/distill-build/distill/internal/sharedlib"
)

// BinfmtDir is where the kernel lists its binfmt_misc handlers, one file
// per handler plus "status" and "register".
const BinfmtDir = "/proc/sys/fs/binfmt_misc"

// qemuArch is QEMU's name of the architectures (GOARCH) distill builds
// stack images for under emulation.
var qemuArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// Emulates reports whether the binfmt_misc mount dir (BinfmtDir) has an
// enabled handler that runs 64-bit little-endian ELF executables of GOARCH
// arch: one whose magic and mask match such an ELF header, or whose
// interpreter is QEMU's for arch (qemu-aarch64, .../qemu-binfmt/aarch64-...).
// A missing dir or a disabled binfmt_misc is false with no error; an
// unreadable handler file is an error naming it.
func Emulates(dir, arch string) (bool, error) {
	machine, err := sharedlib.MachineFor(arch)
	qemu, ok := qemuArch[arch]
	if err != nil || !ok {
		return false, nil
	}
	if status, err := os.ReadFile(filepath.Join(dir, "status")); err != nil || strings.TrimSpace(string(status)) != "enabled" {
		return false, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, nil
	}
	for _, e := range entries {
		if n := e.Name(); n == "status" || n == "register" || e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return false, fmt.Errorf("reading binfmt_misc handler %s: %w", filepath.Join(dir, e.Name()), err)
		}
		if h := parseBinfmt(data); h.enabled && (h.matchesELF(machine) || h.runsQEMU(qemu)) {
			return true, nil
		}
	}
	return false, nil
}

// binfmtHandler is one handler file of binfmt_misc:
//
//	enabled
//	interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
//	flags: POF
//	offset 0
//	magic 7f454c46...
//	mask ffffffff...
type binfmtHandler struct {
	enabled     bool
	interpreter string
	offset      int
	magic, mask []byte
}

func parseBinfmt(data []byte) binfmtHandler {
	var h binfmtHandler
	for _, line := range strings.Split(string(data), "\n") {
		key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "enabled":
			h.enabled = true
		case "interpreter":
			h.interpreter = val
		case "offset":
			h.offset, _ = strconv.Atoi(val)
		case "magic":
			h.magic, _ = hex.DecodeString(val)
		case "mask":
			h.mask, _ = hex.DecodeString(val)
		}
	}
	return h
}

// matchesELF reports whether h's magic matches the header of a 64-bit
// little-endian ELF executable or shared object (PIE) for machine.
func (h binfmtHandler) matchesELF(machine elf.Machine) bool {
	if len(h.magic) == 0 {
		return false
	}
	for _, typ := range []elf.Type{elf.ET_EXEC, elf.ET_DYN} {
		hdr := make([]byte, 64)
		copy(hdr, elf.ELFMAG)
		hdr[elf.EI_CLASS], hdr[elf.EI_DATA], hdr[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
		binary.LittleEndian.PutUint16(hdr[16:], uint16(typ))
		binary.LittleEndian.PutUint16(hdr[18:], uint16(machine))
		if h.offset < 0 || h.offset+len(h.magic) > len(hdr) {
			return false
		}
		got := bytes.Clone(hdr[h.offset : h.offset+len(h.magic)])
		want := bytes.Clone(h.magic)
		for i := range got {
			m := byte(0xff)
			if i < len(h.mask) {
				m = h.mask[i]
			}
			got[i] &= m
			want[i] &= m
		}
		if bytes.Equal(got, want) {
			return true
		}
	}
	return false
}

// runsQEMU reports whether h's interpreter is QEMU's user emulator for
// qemuArch: qemu-aarch64[-static], or Debian's qemu-binfmt/aarch64-binfmt-P.
func (h binfmtHandler) runsQEMU(qemuArch string) bool {
	base := filepath.Base(h.interpreter)
	return strings.HasPrefix(base, "qemu-"+qemuArch) ||
		(filepath.Base(filepath.Dir(h.interpreter)) == "qemu-binfmt" && strings.HasPrefix(base, qemuArch+"-"))
}

// emulationError explains why a stack that runs maintainer scripts cannot be
// built for a foreign arch here, and what to do about it.
func emulationError(d *Definition, arch string) error {
	q := qemuArch[arch]
	if q == "" {
		q = arch
	}
	return fmt.Errorf("building %s for linux/%s: %s has variant %q, whose maintainer scripts run the packages' %s programs, "+
		"which needs emulation, and %s has no enabled binfmt_misc handler for %s ELF files. "+
		"Install QEMU's user emulation (Debian: apt-get install qemu-user-static binfmt-support), "+
		"or register it by hand (mount -t binfmt_misc binfmt_misc %s; cat /usr/lib/binfmt.d/qemu-%s.conf > %s/register); "+
		"or create this image on a linux/%s machine. Variant \"extract\" stacks (run images) need no emulation",
		d.Image, arch, d.file, d.Variant, arch, BinfmtDir, q, BinfmtDir, q, BinfmtDir, arch)
}
