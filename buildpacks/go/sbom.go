package golang

import (
	"debug/buildinfo"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/distill-build/distill/internal/sbom"
)

// goPURL renders a package URL for a Go module: pkg:golang/<path>@<version>.
func goPURL(modPath, version string) string {
	if version == "(devel)" {
		version = ""
	}
	return sbom.PURL(packageurl.TypeGolang, modPath, version)
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
	return sbom.Write(file, sbom.New("distill/go", list))
}
