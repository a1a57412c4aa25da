package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

func TestDebianPURL(t *testing.T) {
	for _, tt := range []struct {
		name, version, arch, distro, want string
	}{
		{"libc6", "2.41-12", "amd64", "13", "pkg:deb/debian/libc6@2.41-12?arch=amd64&distro=debian-13"},
		{"ca-certificates", "20250419", "", "", "pkg:deb/debian/ca-certificates@20250419"},
		{"libstdc++6", "14.2.0-19", "arm64", "13", "pkg:deb/debian/libstdc%2B%2B6@14.2.0-19?arch=arm64&distro=debian-13"},
		{"tzdata", "2026f-0+deb13u1", "amd64", "", "pkg:deb/debian/tzdata@2026f-0%2Bdeb13u1?arch=amd64"},
	} {
		if got := DebianPURL(tt.name, tt.version, tt.arch, tt.distro); got != tt.want {
			t.Errorf("DebianPURL(%s) = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// readSPDX reads an SPDX JSON document back with the official library.
func readSPDX(t *testing.T, b []byte) *spdx.Document {
	t.Helper()
	var doc spdx.Document
	if err := spdxjson.ReadInto(bytes.NewReader(b), &doc); err != nil {
		t.Fatalf("reading the SPDX document back: %v\n%s", err, b)
	}
	return &doc
}

func TestSPDX(t *testing.T) {
	for _, tt := range []struct {
		name string
		pkgs []Package
	}{
		{"empty", nil},
		{"go modules", []Package{
			{Name: "stdlib", Version: "1.25.4", PURL: "pkg:golang/stdlib@1.25.4"},
			{Name: "github.com/gorilla/mux", Version: "v1.8.1", PURL: "pkg:golang/github.com/gorilla/mux@v1.8.1"},
			{Name: "example.com/app"},
		}},
		{"npm scoped", []Package{{Name: "@types/node", Version: "22.0.0", PURL: "pkg:npm/%40types/node@22.0.0"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "sbom.spdx.json")
			if err := WriteSPDX(file, SPDX("distill/go:app", "distill/go", tt.pkgs)); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc := readSPDX(t, b)
			if doc.SPDXVersion != "SPDX-2.3" || doc.DocumentName != "distill/go:app" || doc.CreationInfo.Created != Created || doc.DocumentNamespace == "" {
				t.Errorf("document header %+v", doc)
			}
			if len(doc.Packages) != len(tt.pkgs) || len(doc.Relationships) != len(tt.pkgs) {
				t.Fatalf("%d packages, %d relationships for %d packages", len(doc.Packages), len(doc.Relationships), len(tt.pkgs))
			}
			purls := map[string]bool{}
			for _, p := range doc.Packages {
				for _, r := range p.PackageExternalReferences {
					purls[r.Locator] = r.RefType == "purl" && r.Category == "PACKAGE-MANAGER"
				}
			}
			for _, p := range tt.pkgs {
				if p.PURL != "" && !purls[p.PURL] {
					t.Errorf("package %s: purl %s not an external reference in %v", p.Name, p.PURL, purls)
				}
			}
			again := filepath.Join(t.TempDir(), "again.json")
			if err := WriteSPDX(again, SPDX("distill/go:app", "distill/go", tt.pkgs)); err != nil {
				t.Fatal(err)
			}
			if b2, _ := os.ReadFile(again); !bytes.Equal(b, b2) {
				t.Errorf("the same packages gave other bytes")
			}
		})
	}
}

func TestCycloneDXToSPDX(t *testing.T) {
	dir := t.TempDir()
	cdxFile := filepath.Join(dir, "sbom.cdx.json")
	comps := []cdx.Component{{Name: "flask", Version: "3.1.1", PackageURL: "pkg:pypi/flask@3.1.1"}, {Name: "zlib", Version: "1.3"}}
	if err := Write(cdxFile, New("distill/python", comps)); err != nil {
		t.Fatal(err)
	}
	spdxFile := filepath.Join(dir, "sbom.spdx.json")
	if err := CycloneDXToSPDX(cdxFile, spdxFile, "distill_python:venv"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(spdxFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := readSPDX(t, b)
	if len(doc.Packages) != 2 || doc.Packages[0].PackageName != "flask" || doc.CreationInfo.Creators[0].Creator != "distill/python" {
		t.Errorf("converted document: %+v, creators %+v", doc.Packages, doc.CreationInfo.Creators)
	}
}

func TestPURL(t *testing.T) {
	for _, tt := range []struct {
		typ, name, version, want string
	}{
		{"golang", "github.com/gorilla/mux", "v1.8.1", "pkg:golang/github.com/gorilla/mux@v1.8.1"},
		{"golang", "stdlib", "1.25.4", "pkg:golang/stdlib@1.25.4"},
		{"golang", "example.com/app", "", "pkg:golang/example.com/app"},
		{"npm", "@types/node", "22.0.0", "pkg:npm/%40types/node@22.0.0"},
		{"npm", "express", "5.1.0", "pkg:npm/express@5.1.0"},
		{"pypi", "flask", "3.1.1", "pkg:pypi/flask@3.1.1"},
		{"generic", "node", "22.12.0", "pkg:generic/node@22.12.0"},
	} {
		if got := PURL(tt.typ, tt.name, tt.version); got != tt.want {
			t.Errorf("PURL(%s, %s, %s) = %s, want %s", tt.typ, tt.name, tt.version, got, tt.want)
		}
	}
}
