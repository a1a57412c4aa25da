package stack

import (
	"fmt"
	"io"
	"path"
	"strings"

	"pault.ag/go/debian/deb"
	"pault.ag/go/debian/dependency"
)

// debPackage is what Build needs from one .deb: its control file and the
// paths it ships.
type debPackage struct {
	name, version, arch string
	control             []byte
	paths               []string // clean, relative to /; directories included
	// depends holds Pre-Depends and Depends: each relation is a list of
	// alternative package names.
	depends [][]string
}

// readDeb reads the control file and the file list of the .deb at r.
func readDeb(r io.ReaderAt, name string) (*debPackage, error) {
	d, err := deb.Load(r, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer d.Close()
	p := &debPackage{
		name:    d.Control.Package,
		version: d.Control.Version.String(),
		arch:    d.Control.Architecture.String(),
	}
	rels := d.Control.Depends.Relations
	if pre := d.Control.Values["Pre-Depends"]; pre != "" {
		dep, err := dependency.Parse(pre)
		if err != nil {
			return nil, fmt.Errorf("%s: Pre-Depends: %w", name, err)
		}
		rels = append(dep.Relations, rels...)
	}
	for _, r := range rels {
		var alt []string
		for _, p := range r.Possibilities {
			alt = append(alt, p.Name)
		}
		p.depends = append(p.depends, alt)
	}
	for member, e := range d.ArContent {
		if !strings.HasPrefix(member, "control.tar") {
			continue
		}
		// deb.Load has read this member already: rewind it.
		if _, err := e.Data.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		tr, closer, err := e.Tarfile()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, member, err)
		}
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				closer.Close()
				return nil, fmt.Errorf("%s: %s: %w", name, member, err)
			}
			if path.Clean(hdr.Name) == "control" {
				if p.control, err = io.ReadAll(tr); err != nil {
					closer.Close()
					return nil, fmt.Errorf("%s: control: %w", name, err)
				}
			}
		}
		closer.Close()
	}
	if p.control == nil {
		return nil, fmt.Errorf("%s: no control file", name)
	}
	for {
		hdr, err := d.Data.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: data: %w", name, err)
		}
		if n := cleanName(hdr.Name); n != "" {
			p.paths = append(p.paths, n)
		}
	}
	return p, nil
}
