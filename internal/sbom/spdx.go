package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// Created is the creation time SPDX documents record: the images' epoch, so
// a document, like the layer it lands in, depends on its packages alone.
const Created = "1980-01-01T00:00:01Z"

// Package is one component an SBOM lists.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
}

// Packages lists the components of bom (nested ones too), sorted by name and version.
func Packages(bom *cdx.BOM) []Package {
	pkgs := []Package{}
	var add func([]cdx.Component)
	add = func(comps []cdx.Component) {
		for _, c := range comps {
			pkgs = append(pkgs, Package{Name: c.Name, Version: c.Version, PURL: c.PackageURL})
			if c.Components != nil {
				add(*c.Components)
			}
		}
	}
	if bom.Components != nil {
		add(*bom.Components)
	}
	sortPackages(pkgs)
	return pkgs
}

func sortPackages(pkgs []Package) {
	sort.SliceStable(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Version < pkgs[j].Version
	})
}

// ReadCycloneDX decodes a CycloneDX JSON document.
func ReadCycloneDX(r io.Reader) (*cdx.BOM, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(r, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("decoding CycloneDX: %w", err)
	}
	return &bom, nil
}

// DebianPURL is the package URL of a Debian package, as scanners match it
// against Debian's security tracker: pkg:deb/debian/<name>@<version>?arch=<arch>&distro=debian-<version>.
func DebianPURL(name, version, arch, distroVersion string) string {
	q := map[string]string{}
	if arch != "" {
		q["arch"] = arch
	}
	if distroVersion != "" {
		q["distro"] = "debian-" + distroVersion
	}
	return packageurl.NewPackageURL(packageurl.TypeDebian, "debian", name, version, packageurl.QualifiersFromMap(q), "").ToString()
}

var notInID = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// SPDX is an SPDX 2.3 document named name listing pkgs, each with its
// package URL as a PACKAGE-MANAGER external reference and described by the
// document. Its namespace is derived from its content, so the same packages
// give the same bytes.
func SPDX(name, tool string, pkgs []Package) *spdx.Document {
	sorted := append([]Package(nil), pkgs...)
	sortPackages(sorted)
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\n", name)
	doc := &spdx.Document{
		SPDXVersion: spdx.Version, DataLicense: spdx.DataLicense, SPDXIdentifier: "DOCUMENT", DocumentName: name,
		CreationInfo: &spdx.CreationInfo{Creators: []common.Creator{{CreatorType: "Tool", Creator: tool}}, Created: Created},
	}
	for i, p := range sorted {
		fmt.Fprintf(sum, "%s\t%s\t%s\n", p.Name, p.Version, p.PURL)
		id := common.ElementID(fmt.Sprintf("Package-%d-%s", i+1, notInID.ReplaceAllString(p.Name, "-")))
		sp := &spdx.Package{
			PackageName: p.Name, PackageSPDXIdentifier: id, PackageVersion: p.Version,
			PackageDownloadLocation: "NOASSERTION", FilesAnalyzed: false, IsFilesAnalyzedTagPresent: true,
			PackageLicenseConcluded: "NOASSERTION", PackageLicenseDeclared: "NOASSERTION", PackageCopyrightText: "NOASSERTION",
		}
		if p.PURL != "" {
			sp.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL}}
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", string(id)), Relationship: common.TypeRelationshipDescribe,
		})
	}
	doc.DocumentNamespace = "https://spdx.org/spdxdocs/distill/" + notInID.ReplaceAllString(name, "-") + "-" + hex.EncodeToString(sum.Sum(nil))[:32]
	return doc
}

// WriteSPDX writes doc to file as indented SPDX JSON.
func WriteSPDX(file string, doc *spdx.Document) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("creating SPDX SBOM %s: %w", file, err)
	}
	if err := spdxjson.Write(doc, f, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		f.Close()
		return fmt.Errorf("writing SPDX SBOM %s: %w", file, err)
	}
	return f.Close()
}

// CycloneDXToSPDX writes, beside a buildpack's CycloneDX SBOM cdxFile, its
// SPDX 2.3 form spdxFile, named name.
func CycloneDXToSPDX(cdxFile, spdxFile, name string) error {
	f, err := os.Open(cdxFile)
	if err != nil {
		return fmt.Errorf("reading SBOM %s: %w", cdxFile, err)
	}
	defer f.Close()
	bom, err := ReadCycloneDX(f)
	if err != nil {
		return fmt.Errorf("%s: %w", cdxFile, err)
	}
	return WriteSPDX(spdxFile, SPDX(name, toolOf(bom), Packages(bom)))
}

// toolOf is the tool the CycloneDX metadata names (a buildpack ID), else "distill".
func toolOf(bom *cdx.BOM) string {
	if bom.Metadata != nil && bom.Metadata.Tools != nil && bom.Metadata.Tools.Components != nil {
		for _, c := range *bom.Metadata.Tools.Components {
			if c.Name != "" {
				return c.Name
			}
		}
	}
	return "distill"
}

// PURL is the package URL (packageurl-go) of a package of type typ
// (packageurl.TypeGolang, TypeNPM, TypePyPi, ...) named name: what comes
// before its last slash is the namespace (a Go module's path, an npm
// scope). An empty version is left out.
func PURL(typ, name, version string) string {
	namespace, base := "", name
	if i := strings.LastIndex(name, "/"); i >= 0 {
		namespace, base = name[:i], name[i+1:]
	}
	return packageurl.NewPackageURL(typ, namespace, base, version, nil, "").ToString()
}
