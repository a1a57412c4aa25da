// Package sbom writes the CycloneDX SBOMs buildpacks put beside their layers
// (<layers>/<layer>.sbom.cdx.json), which the exporter gathers into the image.
package sbom

import (
	"fmt"
	"os"
	"sort"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// New returns a BOM listing comps, sorted by name and version so the file
// (and the image layer it lands in) is reproducible, with tool (a buildpack
// id) as the tool that made it.
func New(tool string, comps []cdx.Component) *cdx.BOM {
	sort.SliceStable(comps, func(i, j int) bool {
		if comps[i].Name != comps[j].Name {
			return comps[i].Name < comps[j].Name
		}
		return comps[i].Version < comps[j].Version
	})
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: tool}}},
	}
	bom.Components = &comps
	return bom
}

// Write writes bom to file as indented CycloneDX JSON.
func Write(file string, bom *cdx.BOM) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("creating SBOM %s: %w", file, err)
	}
	enc := cdx.NewBOMEncoder(f, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.Encode(bom); err != nil {
		f.Close()
		return fmt.Errorf("writing SBOM %s: %w", file, err)
	}
	return f.Close()
}
