package sbom

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

func TestWrite(t *testing.T) {
	comps := []cdx.Component{
		{Name: "zlib", Version: "1.3"},
		{Name: "flask", Version: "3.1.1", PackageURL: "pkg:pypi/flask@3.1.1"},
		{Name: "flask", Version: "2.0.0"},
	}
	file := filepath.Join(t.TempDir(), "app.sbom.cdx.json")
	if err := Write(file, New("distill/test", comps)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Name, Version string
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"flask 2.0.0", "flask 3.1.1", "zlib 1.3"}
	if doc.BOMFormat != "CycloneDX" || len(doc.Components) != len(want) {
		t.Fatalf("got %+v", doc)
	}
	for i, c := range doc.Components {
		if got := c.Name + " " + c.Version; got != want[i] {
			t.Errorf("component %d = %s, want %s", i, got, want[i])
		}
	}
	if err := Write(filepath.Join(t.TempDir(), "missing", "x.json"), New("t", nil)); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
