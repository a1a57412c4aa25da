// Package dpkg owns the Debian package records distill writes for scanners:
// dpkg status paragraphs in /var/lib/dpkg/status.d/<package> (the layout of
// distroless images, one paragraph a file) with <package>.md5sums beside them
// naming the files the package has in the image. The stack images write them
// for their packages (internal/stack); buildpacks that copy files out of the
// build image's Debian packages write them inside their launch layer
// (<layer>/var/lib/dpkg/status.d/, which scanners' `**/lib/dpkg/status.d/*`
// globs find), so the packages are reported with the layer that carries them.
package dpkg

import (
	"fmt"
	"strings"
)

// StatusDir is where the records live, relative to an image's or a layer's root.
const StatusDir = "var/lib/dpkg/status.d"

// StatusRecord turns a package's DEBIAN/control (or its paragraph of dpkg's
// status database) into a status.d paragraph: its fields with "Status: install
// ok installed" after Package. The fields named in drop (with their
// continuation lines) are left out, as fields describing files the image does
// not carry (Conffiles) should be.
func StatusRecord(control []byte, drop ...string) ([]byte, error) {
	text := strings.TrimRight(strings.ReplaceAll(string(control), "\r\n", "\n"), "\n")
	var out strings.Builder
	found, skipping := false, false
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			return nil, fmt.Errorf("control file has more than one paragraph")
		}
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if !skipping {
				out.WriteString(l + "\n")
			}
			continue
		}
		field, _, _ := strings.Cut(l, ":")
		skipping = field == "Status" || contains(drop, field)
		if skipping {
			continue
		}
		out.WriteString(l + "\n")
		if field == "Package" {
			out.WriteString("Status: install ok installed\n")
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("control file has no Package field")
	}
	return []byte(out.String()), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
