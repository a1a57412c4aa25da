package node

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/distill-build/distill/buildpacks/node/berry"
	"github.com/distill-build/distill/internal/dpkg"
	"github.com/distill-build/distill/internal/sbom"
)

// npmPURL renders a package URL for an npm package: pkg:npm/%40scope/name@version.
func npmPURL(name, version string) string {
	return sbom.PURL(packageurl.TypeNPM, name, version)
}

// installedPackages lists name@version of every package installed under a node_modules tree
// (nested trees and pnpm's .pnpm store included), sorted and without duplicates.
func installedPackages(root string) ([]cdx.Component, error) {
	seen := map[string]cdx.Component{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && os.IsNotExist(err) {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() || d.Name() != "package.json" {
			return nil
		}
		// Only <node_modules>/<name>/package.json and <node_modules>/@scope/<name>/package.json.
		dir := filepath.Dir(p)
		parent := filepath.Dir(dir)
		if strings.HasPrefix(filepath.Base(parent), "@") {
			parent = filepath.Dir(parent)
		}
		if filepath.Base(parent) != "node_modules" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		var pj struct {
			Name    string          `json:"name"`
			Version string          `json:"version"`
			License json.RawMessage `json:"license"`
		}
		if json.Unmarshal(data, &pj) != nil || pj.Name == "" || pj.Version == "" {
			return nil
		}
		key := pj.Name + "@" + pj.Version
		if _, ok := seen[key]; ok {
			return nil
		}
		purl := npmPURL(pj.Name, pj.Version)
		c := cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: pj.Name, Version: pj.Version, PackageURL: purl}
		var lic string
		if json.Unmarshal(pj.License, &lic) == nil && lic != "" {
			c.Licenses = &cdx.Licenses{{Expression: lic}}
		}
		seen[key] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	list := make([]cdx.Component, 0, len(seen))
	for _, c := range seen {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Name != list[j].Name {
			return list[i].Name < list[j].Name
		}
		return list[i].Version < list[j].Version
	})
	return list, nil
}

// writeModulesSBOM writes the CycloneDX SBOM of the production packages in tree.
func writeModulesSBOM(file, tree string, app packageJSON) (int, error) {
	comps, err := installedPackages(tree)
	if err != nil {
		return 0, err
	}
	bom := sbom.New("distill/node", comps)
	if app.Name != "" {
		purl := npmPURL(app.Name, app.Version)
		bom.Metadata.Component = &cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeApplication, Name: app.Name, Version: app.Version, PackageURL: purl}
	}
	return len(comps), sbom.Write(file, bom)
}

// writePnPSBOM writes the CycloneDX SBOM of a Plug'n'Play install's production zips.
func writePnPSBOM(file string, pkgs []berry.Package, app packageJSON) error {
	comps := make([]cdx.Component, 0, len(pkgs))
	for _, p := range pkgs {
		purl := npmPURL(p.Name, p.Version)
		comps = append(comps, cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: purl})
	}
	bom := sbom.New("distill/node", comps)
	if app.Name != "" {
		purl := npmPURL(app.Name, app.Version)
		bom.Metadata.Component = &cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeApplication, Name: app.Name, Version: app.Version, PackageURL: purl}
	}
	return sbom.Write(file, bom)
}

// writeRuntimeSBOM writes the CycloneDX SBOM of the Node.js runtime layer: Node.js and the Debian
// packages of the libraries copied beside it (debs, recorded in the layer).
func writeRuntimeSBOM(file, version, integrity string, debs []*dpkg.Package) error {
	purl := sbom.PURL(packageurl.TypeGeneric, "node", version)
	c := cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeApplication, Name: "node", Version: version, PackageURL: purl,
		Licenses: &cdx.Licenses{{Expression: "MIT"}}}
	if alg, b64, ok := strings.Cut(integrity, "-"); ok && alg == "sha512" {
		if raw, err := decodeB64(b64); err == nil {
			c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA512, Value: fmt.Sprintf("%x", raw)}}
		}
	}
	return sbom.Write(file, sbom.New("distill/node", append([]cdx.Component{c}, dpkg.Components(debs, dpkg.DistroVersion("/"))...)))
}
