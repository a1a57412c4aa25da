package main

import (
	"debug/buildinfo"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// goPURL renders a package URL for a Go module: pkg:golang/<path>@<version>.
func goPURL(modPath, version string) string {
	segs := strings.Split(modPath, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	p := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" && version != "(devel)" {
		p += "@" + url.PathEscape(version)
	}
	return p
}

// writeSBOM writes a CycloneDX JSON SBOM listing, for the given binaries, the main modules, every
// dependency module and the Go standard library, as recorded in the binaries' build info.
func writeSBOM(file string, binaries []string) error {
	type key struct{ path, version string }
	comps := map[key]cdx.Component{}
	add := func(path, version string, typ cdx.ComponentType) {
		k := key{path, version}
		if _, ok := comps[k]; ok {
			return
		}
		purl := goPURL(path, version)
		c := cdx.Component{BOMRef: purl, Type: typ, Name: path, PackageURL: purl}
		if version != "(devel)" {
			c.Version = version
		}
		comps[k] = c
	}
	for _, bin := range binaries {
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			return fmt.Errorf("unable to read Go build info from %s: %w", bin, err)
		}
		if info.Main.Path != "" {
			add(info.Main.Path, info.Main.Version, cdx.ComponentTypeApplication)
		}
		for _, d := range info.Deps {
			m := d
			if d.Replace != nil && d.Replace.Version != "" {
				m = d.Replace
			}
			add(m.Path, m.Version, cdx.ComponentTypeLibrary)
		}
		if v := strings.TrimPrefix(strings.Fields(info.GoVersion + " ")[0], "go"); v != "" {
			add("stdlib", v, cdx.ComponentTypeLibrary)
		}
	}
	list := make([]cdx.Component, 0, len(comps))
	for _, c := range comps {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Name != list[j].Name {
			return list[i].Name < list[j].Name
		}
		return list[i].Version < list[j].Version
	})

	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "distill/go"}}},
	}
	bom.Components = &list

	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("unable to create %s: %w", file, err)
	}
	enc := cdx.NewBOMEncoder(f, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.Encode(bom); err != nil {
		f.Close()
		return fmt.Errorf("unable to write %s: %w", file, err)
	}
	return f.Close()
}
