package sharedlib

import (
	"fmt"
	"os/exec"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// DebianComponents describes the Debian packages that ship files (in the build image, which
// distill's run images share packages with) as CycloneDX library components with
// pkg:deb/debian purls, one per package, so scanners map copied libraries to Debian's security
// updates. Files dpkg does not know are left out.
func DebianComponents(files []string) []cdx.Component {
	var comps []cdx.Component
	seen := map[string]bool{}
	for _, f := range files {
		pkg, ver := debianPackage(f)
		if pkg == "" || seen[pkg] {
			continue
		}
		seen[pkg] = true
		purl := fmt.Sprintf("pkg:deb/debian/%s@%s?distro=debian-13", pkg, ver)
		comps = append(comps, cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: pkg, Version: ver, PackageURL: purl})
	}
	return comps
}

// debianPackage asks dpkg which package ships path (best effort: "" when dpkg does not know).
func debianPackage(path string) (string, string) {
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
