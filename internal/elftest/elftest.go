// Package elftest makes the smallest ELF files tests need: a 64-byte header that debug/elf reads
// the machine and type from, with no sections or program headers.
package elftest

import (
	"debug/elf"
	"encoding/binary"
)

// Header is the 64-byte header of a 64-bit little-endian ELF file of type typ (ET_EXEC, ET_DYN)
// for machine (ELF(5): e_ident, e_type, e_machine, e_version, e_ehsize).
func Header(machine elf.Machine, typ elf.Type) []byte {
	h := make([]byte, 64)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS], h[elf.EI_DATA], h[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	binary.LittleEndian.PutUint16(h[16:], uint16(typ))
	binary.LittleEndian.PutUint16(h[18:], uint16(machine))
	binary.LittleEndian.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	binary.LittleEndian.PutUint16(h[52:], 64) // e_ehsize
	return h
}
