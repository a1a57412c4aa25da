package python

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

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
	return "pkg:pypi/" + normalize(name) + "@" + version
}

// writeDistributionsSBOM writes a CycloneDX JSON SBOM of the distributions.
func writeDistributionsSBOM(file string, dists []distribution) error {
	comps := make([]cdx.Component, 0, len(dists))
	for _, d := range dists {
		purl := pypiPURL(d.Name, d.Version)
		c := cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: d.Name, Version: d.Version, PackageURL: purl}
		if d.License != "" {
			c.Licenses = &cdx.Licenses{{License: &cdx.License{Name: d.License}}}
		}
		comps = append(comps, c)
	}
	return sbom.Write(file, sbom.New("distill/python", comps))
}

// writeCPythonSBOM lists the interpreter and the Debian packages of the copied shared libraries.
func writeCPythonSBOM(file string, py pythonInfo, libs []string) error {
	purl := "pkg:generic/cpython@" + py.Version.String()
	comps := []cdx.Component{{BOMRef: purl, Type: cdx.ComponentTypeApplication, Name: "cpython", Version: py.Version.String(), PackageURL: purl}}
	seen := map[string]bool{}
	for _, p := range append([]string{py.Bin}, libs...) {
		pkg, ver := debPackageOf(p)
		if pkg == "" || seen[pkg] {
			continue
		}
		seen[pkg] = true
		purl := fmt.Sprintf("pkg:deb/debian/%s@%s?distro=debian-13", pkg, ver)
		comps = append(comps, cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: pkg, Version: ver, PackageURL: purl})
	}
	return sbom.Write(file, sbom.New("distill/python", comps))
}

// debPackageOf asks dpkg which package ships path (best effort: "" when dpkg does not know).
func debPackageOf(path string) (string, string) {
	out, err := exec.Command("dpkg-query", "-S", path).Output()
	if err != nil {
		// merged /usr: dpkg may know the /lib path
		if strings.HasPrefix(path, "/usr/lib/") {
			out, err = exec.Command("dpkg-query", "-S", strings.TrimPrefix(path, "/usr")).Output()
		}
		if err != nil {
			return "", ""
		}
	}
	pkg, _, _ := strings.Cut(strings.TrimSpace(string(out)), ":")
	pkg = strings.TrimSpace(strings.Split(pkg, ",")[0])
	v, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil {
		return pkg, ""
	}
	return pkg, strings.TrimSpace(string(v))
}
