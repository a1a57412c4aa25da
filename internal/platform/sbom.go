package platform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/distill-build/distill/internal/archive"
	"github.com/distill-build/distill/internal/cnbmeta"
	"github.com/distill-build/distill/internal/inspect"
	"github.com/distill-build/distill/internal/sbom"
)

// WriteSBOMs writes the SBOMs of img (named name) into dir, as pack sbom
// download lays them out: the SBOM layer's tree
// (layers/sbom/launch/<buildpack>/<layer>/sbom.cdx.json and sbom.spdx.json);
// and the whole image's, run image packages included, as sbom.cdx.json and
// sbom.spdx.json at the top of dir. The whole-image SBOM is not stored in
// the image: a rebase changes the run image under it.
func WriteSBOMs(ctx context.Context, dir, name string, img v1.Image) error {
	in, err := inspect.Read(ctx, name, img, inspect.Options{SizeCache: filepath.Join(CacheRoot(), "sizes")})
	if err != nil {
		return err
	}
	if err := extractSBOMLayer(ctx, dir, img, in); err != nil {
		return err
	}
	pkgs := imagePackages(img, in)
	comps := make([]cdx.Component, 0, len(pkgs))
	for _, p := range pkgs {
		comps = append(comps, cdx.Component{BOMRef: p.PURL, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: p.PURL})
	}
	if err := sbom.Write(filepath.Join(dir, "sbom.cdx.json"), sbom.New("distill", comps)); err != nil {
		return err
	}
	return sbom.WriteSPDX(filepath.Join(dir, "sbom.spdx.json"), sbom.SPDX(in.Digest, "distill", pkgs))
}

// extractSBOMLayer writes the SBOM layer's files under dir.
func extractSBOMLayer(ctx context.Context, dir string, img v1.Image, in *inspect.Image) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--sbom-output-dir: %w", err)
	}
	for _, l := range in.Layers {
		if l.Kind != inspect.KindSBOM {
			continue
		}
		h, err := v1.NewHash(l.Digest)
		if err != nil {
			return err
		}
		layer, err := img.LayerByDigest(h)
		if err != nil {
			return fmt.Errorf("reading the SBOM layer: %w", err)
		}
		rc, err := layer.Uncompressed()
		if err != nil {
			return fmt.Errorf("reading the SBOM layer: %w", err)
		}
		defer rc.Close()
		return archive.Extract(ctx, "the SBOM layer", rc, dir, archive.Under("layers/sbom/"))
	}
	return nil
}

// imagePackages lists every package of the image: the run image's Debian
// packages (with their package URLs), each layer's and each buildpack's.
func imagePackages(img v1.Image, in *inspect.Image) []sbom.Package {
	arch, distro := in.Architecture, ""
	if cf, err := img.ConfigFile(); err == nil {
		distro = cf.Config.Labels[cnbmeta.LabelDistroVersion]
	}
	var pkgs []sbom.Package
	for _, p := range in.RunImage.Packages {
		if p.PURL == "" {
			p.PURL = sbom.DebianPURL(p.Name, p.Version, arch, distro)
		}
		pkgs = append(pkgs, p)
	}
	for _, l := range in.Layers {
		pkgs = append(pkgs, l.Packages...)
	}
	for _, s := range in.SBOMs {
		pkgs = append(pkgs, s.Packages...)
	}
	return pkgs
}
