package python

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/sbom"
)

// distribution is one installed Python distribution.
type distribution struct {
	Name, Version, License string
}

// installedDistributions reads every *.dist-info/METADATA under the site-packages dirs below root.
func installedDistributions(root string) ([]distribution, error) {
	metas, err := filepath.Glob(filepath.Join(root, "lib", "python*", "site-packages", "*.dist-info", "METADATA"))
	if err != nil {
		return nil, err
	}
	var out []distribution
	for _, m := range metas {
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		d := distribution{Name: metaHeader(data, "Name"), Version: metaHeader(data, "Version"), License: metaHeader(data, "License-Expression")}
		if d.License == "" {
			if l := metaHeader(data, "License"); len(l) < 64 {
				d.License = l
			}
		}
		if d.Name != "" {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return normalize(out[i].Name) < normalize(out[j].Name) })
	return out, nil
}

func metaHeader(meta []byte, name string) string {
	for _, line := range strings.Split(string(meta), "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func pypiPURL(name, version string) string {
	return sbom.PURL(packageurl.TypePyPi, normalize(name), version)
}

// writeDistributionsSBOM writes a CycloneDX JSON SBOM of the distributions and of the Debian
// packages of the shared libraries copied beside them (debs, recorded in the layer).
func writeDistributionsSBOM(file string, dists []distribution, debs []*dpkg.Package) error {
	comps := make([]cdx.Component, 0, len(dists))
	for _, d := range dists {
		purl := pypiPURL(d.Name, d.Version)
		c := cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: d.Name, Version: d.Version, PackageURL: purl}
		if d.License != "" {
			c.Licenses = &cdx.Licenses{{License: &cdx.License{Name: d.License}}}
		}
		comps = append(comps, c)
	}
	comps = append(comps, dpkg.Components(debs, dpkg.DistroVersion("/"))...)
	return sbom.Write(file, sbom.New("distill/python", comps))
}

// writeCPythonSBOM lists the interpreter and the Debian packages its files were copied from
// (the records in the layer), with their Debian package URLs.
func writeCPythonSBOM(file string, py pythonInfo, debs []*dpkg.Package) error {
	purl := sbom.PURL(packageurl.TypeGeneric, "cpython", py.Version.String())
	comps := []cdx.Component{{BOMRef: purl, Type: cdx.ComponentTypeApplication, Name: "cpython", Version: py.Version.String(), PackageURL: purl}}
	comps = append(comps, dpkg.Components(debs, dpkg.DistroVersion("/"))...)
	return sbom.Write(file, sbom.New("distill/python", comps))
}
