package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	spdxjson "github.com/spdx/tools-golang/json"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/testenv"
)

// readSPDXFile reads an SPDX 2.3 JSON file with the official library.
func readSPDXFile(t *testing.T, p string) *spdx.Document {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc spdx.Document
	if err := spdxjson.ReadInto(bytes.NewReader(b), &doc); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("%s: spdxVersion %q", p, doc.SPDXVersion)
	}
	return &doc
}

func purlsOf(doc *spdx.Document) []string {
	var out []string
	for _, p := range doc.Packages {
		for _, r := range p.PackageExternalReferences {
			if r.RefType == "purl" {
				out = append(out, r.Locator)
			}
		}
	}
	return out
}

// TestSBOMOutput: distill build --sbom-output-dir writes each layer's SBOM
// in CycloneDX and SPDX 2.3 where the image keeps them
// (layers/sbom/launch/<buildpack>/<layer>/, as pack sbom download writes
// them), and the whole image's, Debian packages of the run image included.
func TestSBOMOutput(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	g := sharedGoImage(t)
	dir := filepath.Join(t.TempDir(), "sbom")
	out := filepath.Join(t.TempDir(), "image")
	distill(t, g.app, "-o", "oci:"+out, "--cache-dir", g.cache, "--sbom-output-dir", dir).must(t)
	layerDoc := readSPDXFile(t, filepath.Join(dir, "layers/sbom/launch/distill_go/app/sbom.spdx.json"))
	if _, err := os.Stat(filepath.Join(dir, "layers/sbom/launch/distill_go/app/sbom.cdx.json")); err != nil {
		t.Error(err)
	}
	if purls := strings.Join(purlsOf(layerDoc), " "); !strings.Contains(purls, "pkg:golang/github.com/gorilla/mux@v1.8.1") || !strings.Contains(purls, "pkg:golang/stdlib@") {
		t.Errorf("the Go layer's SPDX lists %s", purls)
	}
	imageDoc := readSPDXFile(t, filepath.Join(dir, "sbom.spdx.json"))
	purls := strings.Join(purlsOf(imageDoc), " ")
	for _, want := range []string{"pkg:deb/debian/ca-certificates@", "pkg:deb/debian/tzdata@", "pkg:golang/github.com/gorilla/mux@v1.8.1"} {
		if !strings.Contains(purls, want) {
			t.Errorf("the image's SPDX lacks %s: %s", want, purls)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sbom.cdx.json")); err != nil {
		t.Error(err)
	}
	// The image keeps the same files in its SBOM layer.
	files := harness.Entries(t, out)
	for _, p := range []string{"/layers/sbom/launch/distill_go/app/sbom.spdx.json", "/layers/sbom/launch/distill_go/app/sbom.cdx.json"} {
		if _, ok := files[p]; !ok {
			t.Errorf("the image lacks %s", p)
		}
	}
}
