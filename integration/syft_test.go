package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/internal/sbom"
	"github.com/distill-build/distill/internal/testenv"
)

// sbomEntry is one package a scanner or our SBOM lists, keyed the way both can name it.
type sbomEntry struct {
	Eco     string // the package URL's type: deb, golang, npm, pypi, generic
	Name    string // pypi names normalised (PEP 503)
	Version string // Go's stdlib without the "go" prefix
	Where   string // for messages: where syft found it (its cataloger and first path)
}

func (e sbomEntry) key() string { return e.Eco + " " + e.Name }

// syftException is a package one side lists and the other does not, for a reason.
type syftException struct {
	Eco, Name string // Name "" matches any name of the ecosystem
	Only      string // "syft" or "ours": the side that lists it
	Why       string
}

// syftExceptions are the disagreements between syft and our SBOMs that have a reason.
var syftExceptions = []syftException{
	{Eco: "golang", Name: "example.com/go-mux", Only: "syft",
		Why: "the main module has no version (built with -buildvcs=false, outside a tag): syft says \"UNKNOWN\", ours leaves the version out"},
	{Eco: "golang", Name: "example.com/go-mux", Only: "ours",
		Why: "the main module, without a version (see the syft side)"},
	{Eco: "npm", Name: "node-express", Only: "syft",
		Why: "the app's own /workspace/package.json: ours names the app as the subject of the node-modules SBOM (metadata.component), not as a package in it"},
	{Eco: "deb", Name: "gcc-14", Only: "syft",
		Why: "syft's ELF-note cataloger reads run:base's libgcc_s.so.1, whose .note.package names its source package gcc-14; both list the binary package libgcc-s1 that ships it, but the run image's status.d records carry no md5sums, so syft cannot see the file is libgcc-s1's"},
	{Eco: "generic", Name: "cpython", Only: "ours",
		Why: "ours also names the interpreter (pkg:generic/cpython); its files are the Debian packages python3.13-minimal and libpython3.13-*, which both list"},
}

// entryFromPURL keys a package by its package URL (name and version as the lister gives them).
func entryFromPURL(purl, name, version string) sbomEntry {
	e := sbomEntry{Eco: "none", Name: name, Version: version}
	if p, err := packageurl.FromString(purl); err == nil {
		e.Eco = p.Type
	}
	switch e.Eco {
	case packageurl.TypePyPi:
		e.Name = pep503.ReplaceAllString(strings.ToLower(name), "-")
	case packageurl.TypeGolang:
		if name == "stdlib" {
			e.Version = strings.TrimPrefix(version, "go")
		}
	}
	return e
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// syftRow is one line of the agreement table.
type syftRow struct {
	Eco, Name, Syft, Ours, Verdict string
}

// compareSBOMs matches what syft found with what ours lists, package by package and version by
// version. It returns the table and the disagreements no exception explains.
func compareSBOMs(syft, ours []sbomEntry, exceptions []syftException) ([]syftRow, []string) {
	type sides struct{ syft, ours map[string]bool }
	where := map[string]string{}
	for _, e := range syft {
		where[e.key()+" "+e.Version] = e.Where
	}
	byKey := map[string]*sides{}
	add := func(es []sbomEntry, isSyft bool) {
		for _, e := range es {
			s := byKey[e.key()]
			if s == nil {
				s = &sides{map[string]bool{}, map[string]bool{}}
				byKey[e.key()] = s
			}
			if isSyft {
				s.syft[e.Version] = true
			} else {
				s.ours[e.Version] = true
			}
		}
	}
	add(syft, true)
	add(ours, false)
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var rows []syftRow
	var problems []string
	for _, k := range keys {
		s := byKey[k]
		eco, name, _ := strings.Cut(k, " ")
		row := syftRow{Eco: eco, Name: name, Syft: versions(s.syft), Ours: versions(s.ours), Verdict: "agree"}
		for side, only := range map[string][]string{"syft": onlyIn(s.syft, s.ours), "ours": onlyIn(s.ours, s.syft)} {
			if len(only) == 0 {
				continue
			}
			if why := exceptionFor(exceptions, eco, name, side); why != "" {
				row.Verdict = "exception: " + why
				continue
			}
			row.Verdict = "DISAGREE"
			p := fmt.Sprintf("%s %s %s: only %s lists it (syft %s, ours %s)", eco, name, strings.Join(only, ","), side, row.Syft, row.Ours)
			for v := range s.syft {
				if w := where[k+" "+v]; w != "" && !s.ours[v] {
					p += "; syft found " + v + " " + w
				}
			}
			problems = append(problems, p)
		}
		rows = append(rows, row)
	}
	sort.Strings(problems)
	return rows, problems
}

func exceptionFor(exceptions []syftException, eco, name, side string) string {
	for _, x := range exceptions {
		if x.Eco == eco && (x.Name == "" || x.Name == name) && x.Only == side {
			return x.Why
		}
	}
	return ""
}

func onlyIn(a, b map[string]bool) []string {
	var out []string
	for v := range a {
		if !b[v] {
			out = append(out, fmt.Sprintf("%q", v))
		}
	}
	sort.Strings(out)
	return out
}

func versions(m map[string]bool) string {
	if len(m) == 0 {
		return "-"
	}
	var out []string
	for v := range m {
		if v == "" {
			v = `""`
		}
		out = append(out, v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// syftScan runs syft on an OCI layout and returns the packages it finds.
func syftScan(t *testing.T, syft, layout string) []sbomEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, syft, "scan", "oci-dir:"+layout, "-o", "json", "-q")
	cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("syft scan oci-dir:%s: %v\n%s", layout, err, stderr.String())
	}
	var doc struct {
		Artifacts []struct {
			Name, Version, Type, PURL, FoundBy string
			Locations                          []struct{ Path string }
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("decoding syft's JSON: %v", err)
	}
	out := make([]sbomEntry, 0, len(doc.Artifacts))
	for _, a := range doc.Artifacts {
		// syft's findings must be its own: not read back from the SBOM files the image carries.
		if a.FoundBy == "sbom-cataloger" {
			t.Errorf("syft took %s %s from an SBOM file in the image", a.Name, a.Version)
		}
		e := entryFromPURL(a.PURL, a.Name, a.Version)
		e.Where = "with " + a.FoundBy
		if len(a.Locations) > 0 {
			e.Where += " in " + a.Locations[0].Path
		}
		out = append(out, e)
	}
	return out
}

// ourImageSBOM reads the whole-image CycloneDX SBOM distill build --sbom-output-dir wrote.
func ourImageSBOM(t *testing.T, dir string) []sbomEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "sbom.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bom, err := sbom.ReadCycloneDX(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []sbomEntry
	for _, p := range sbom.Packages(bom) {
		out = append(out, entryFromPURL(p.PURL, p.Name, p.Version))
	}
	return out
}

func logSyftTable(t *testing.T, rows []syftRow) {
	t.Helper()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ECOSYSTEM\tPACKAGE\tSYFT\tOURS\tVERDICT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Eco, r.Name, r.Syft, r.Ours, r.Verdict)
	}
	tw.Flush()
	t.Logf("syft %s vs our SBOM:\n%s", harness.SyftVersion, b.String())
}

// TestSyftAgrees builds the Go sample, the Express sample and a Flask app, scans each image with
// the real syft (built from its Go module by scripts/tools) and checks that what syft finds and
// what our whole-image SBOM (--sbom-output-dir) lists agree: every Debian package, Go module (the
// stdlib at the version the binary was built with), npm package and Python distribution, with
// versions, except the named syftExceptions.
func TestSyftAgrees(t *testing.T) {
	testenv.Slow(t, "an integration test: builds real images and scans them with syft")
	harness.RequireTools(t)
	syft := harness.Syft(t)
	apps := []struct {
		name  string
		build func(t *testing.T, out, sbomDir string)
		want  []string // ecosystems both must list packages of
		// Debian packages a buildpack copied files from, which syft must report as such (not as a
		// bare binary): the layer's dpkg records at work.
		copied []string
	}{
		{"go-mux", func(t *testing.T, out, sbomDir string) {
			g := sharedGoImage(t)
			distill(t, g.app, "-o", "oci:"+out, "--cache-dir", g.cache, "--sbom-output-dir", sbomDir).must(t)
		}, []string{"deb", "golang"}, nil},
		{"node-express", func(t *testing.T, out, sbomDir string) {
			app := copyApp(t, "samples/node-express")
			distill(t, app, "-o", "oci:"+out, "--cache-dir", filepath.Join(t.TempDir(), "cache"), "--sbom-output-dir", sbomDir).must(t)
		}, []string{"deb", "npm"}, []string{"libstdc++6"}},
		{"flask", func(t *testing.T, out, sbomDir string) {
			app := copyApp(t, "integration/testdata/python/flask-procfile")
			pyBuild(t, pythonIndex(t), app, out, filepath.Join(t.TempDir(), "cache"), "--sbom-output-dir", sbomDir).must(t)
		}, []string{"deb", "pypi"}, []string{"python3.13-minimal", "libpython3.13-minimal", "libpython3.13-stdlib", "libssl3t64"}},
	}
	for _, a := range apps {
		t.Run(a.name, func(t *testing.T) {
			out, sbomDir := filepath.Join(t.TempDir(), "image"), filepath.Join(t.TempDir(), "sbom")
			a.build(t, out, sbomDir)
			found, ours := syftScan(t, syft, out), ourImageSBOM(t, sbomDir)
			rows, problems := compareSBOMs(found, ours, syftExceptions)
			logSyftTable(t, rows)
			for _, p := range problems {
				t.Error(p)
			}
			for _, name := range a.copied {
				if !hasEntry(found, "deb", name) {
					t.Errorf("syft does not report the Debian package %s the image's layers copied files from", name)
				}
			}
			for _, e := range found {
				if e.Eco == packageurl.TypeGeneric && e.Name == "python" {
					t.Errorf("syft reports CPython as a bare binary (%s %s)", e.Version, e.Where)
				}
			}
			for _, eco := range a.want {
				if countEco(found, eco) == 0 || countEco(ours, eco) == 0 {
					t.Errorf("%s: syft found %d packages, ours lists %d; want both to list some", eco, countEco(found, eco), countEco(ours, eco))
				}
			}
		})
	}
}

func countEco(es []sbomEntry, eco string) int {
	n := 0
	for _, e := range es {
		if e.Eco == eco {
			n++
		}
	}
	return n
}

func hasEntry(es []sbomEntry, eco, name string) bool {
	for _, e := range es {
		if e.Eco == eco && e.Name == name {
			return true
		}
	}
	return false
}
