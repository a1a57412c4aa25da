package inspect

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/archive"
	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/sbom"
)

// sbomRoot is where the SBOM layer keeps launch SBOMs, per the buildpack
// spec: <sbomRoot>/<escaped buildpack id>/<layer>/sbom.cdx.json for a layer,
// <sbomRoot>/<escaped buildpack id>/sbom.cdx.json for the image as a whole.
const sbomRoot = "layers/sbom/launch"

// readSBOMs reads the CycloneDX SBOMs of the SBOM layer and gives each
// layer its packages.
func (out *Image) readSBOMs(ctx context.Context, l v1.Layer) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return fmt.Errorf("reading the SBOM layer: %w", err)
	}
	defer rc.Close()
	ids := map[string]string{} // escaped buildpack id → id
	for _, l := range out.Layers {
		if l.Kind == KindBuildpack {
			ids[buildpack.EscapedID(l.Buildpack)] = l.Buildpack
		}
	}
	for _, bp := range out.Buildpacks {
		ids[buildpack.EscapedID(bp.ID)] = bp.ID
	}
	return archive.Walk(ctx, "the SBOM layer", rc, func(name string, hdr *tar.Header, body io.Reader) error {
		rel, ok := strings.CutPrefix(strings.TrimPrefix(name, "/"), sbomRoot+"/")
		if !ok || hdr.Typeflag != tar.TypeReg || path.Base(rel) != "sbom.cdx.json" {
			return nil
		}
		pkgs, err := cycloneDXPackages(body)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if path.Dir(rel) == "." {
			return nil // not a buildpack's
		}
		parts := strings.Split(path.Dir(rel), "/")
		bp := ids[parts[0]]
		if bp == "" {
			bp = parts[0]
		}
		switch len(parts) {
		case 1:
			out.SBOMs = append(out.SBOMs, SBOM{Buildpack: bp, Packages: pkgs})
		case 2:
			out.addPackages(bp, parts[1], pkgs)
		}
		return nil
	}, archive.Layer())
}

// addPackages gives the layer name of buildpack bp the packages pkgs.
func (out *Image) addPackages(bp, name string, pkgs []Package) {
	for i := range out.Layers {
		if l := &out.Layers[i]; l.Kind == KindBuildpack && l.Buildpack == bp && l.Name == name {
			l.Packages = append(l.Packages, pkgs...)
			return
		}
	}
}

// cycloneDXPackages lists the components of a CycloneDX JSON document
// (nested ones too), sorted by name and version.
func cycloneDXPackages(r io.Reader) ([]Package, error) {
	bom, err := sbom.ReadCycloneDX(r)
	if err != nil {
		return nil, err
	}
	return sbom.Packages(bom), nil
}
