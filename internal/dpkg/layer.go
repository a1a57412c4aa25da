package dpkg

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/distill-build/distill/internal/sbom"
)

// File is one file a layer carries that was copied out of a package of the
// build image.
type File struct {
	Src  string // the file in the build image, as dpkg installed it (symlinks resolved or not)
	Dest string // the copy in the layer: an absolute path, which is its path in the image (a CNB layer is built at /layers/<buildpack>/<layer>)
}

// WriteLayerRecords writes the records of the packages that own files into
// layerDir/var/lib/dpkg/status.d: <package> (its status paragraph, without
// Conffiles) and <package>.md5sums (the md5 and image path of each copied
// regular file of that package). Files no package owns are left out; the
// directory is replaced. It returns the packages recorded, sorted by name.
func (db *DB) WriteLayerRecords(layerDir string, files []File) ([]*Package, error) {
	sums := map[string][]string{}
	owners := map[string]*Package{}
	for _, f := range files {
		p, ok := db.Owner(f.Src)
		if !ok {
			continue
		}
		fi, err := os.Lstat(f.Dest)
		if err != nil {
			return nil, fmt.Errorf("recording %s: %w", f.Dest, err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		sum, err := md5File(f.Dest)
		if err != nil {
			return nil, err
		}
		owners[p.Name] = p
		sums[p.Name] = append(sums[p.Name], sum+"  "+strings.TrimPrefix(filepath.ToSlash(f.Dest), "/"))
	}
	dir := filepath.Join(layerDir, filepath.FromSlash(StatusDir))
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("replacing %s: %w", dir, err)
	}
	if len(owners) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	pkgs := make([]*Package, 0, len(owners))
	for name, p := range owners {
		rec, err := StatusRecord(p.Paragraph, "Conffiles")
		if err != nil {
			return nil, fmt.Errorf("the dpkg record of %s: %w", name, err)
		}
		lines := sums[name]
		sort.Strings(lines)
		if err := os.WriteFile(filepath.Join(dir, name), rec, 0o644); err != nil {
			return nil, fmt.Errorf("writing the dpkg record of %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".md5sums"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("writing the file list of %s: %w", name, err)
		}
		pkgs = append(pkgs, p)
	}
	sortByName(pkgs)
	return pkgs, nil
}

// ReadLayerRecords reads back the packages WriteLayerRecords recorded in
// layerDir (none when it recorded none), sorted by name.
func ReadLayerRecords(layerDir string) ([]*Package, error) {
	dir := filepath.Join(layerDir, filepath.FromSlash(StatusDir))
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the dpkg records of %s: %w", layerDir, err)
	}
	var pkgs []*Package
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md5sums") {
			continue // the file list beside the record
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading the dpkg records of %s: %w", layerDir, err)
		}
		pkgs = append(pkgs, ParseStatus(data)...)
	}
	sortByName(pkgs)
	return pkgs, nil
}

// Components describes packages as CycloneDX library components with their
// Debian package URLs (pkg:deb/debian/<name>@<version>?arch=<arch>&distro=debian-<distroVersion>),
// the form scanners match against Debian's security tracker.
func Components(pkgs []*Package, distroVersion string) []cdx.Component {
	comps := make([]cdx.Component, 0, len(pkgs))
	for _, p := range pkgs {
		purl := sbom.DebianPURL(p.Name, p.Version, p.Arch, distroVersion)
		comps = append(comps, cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: purl})
	}
	return comps
}

// DistroVersion is root's Debian release (VERSION_ID of /etc/os-release: "13"),
// "" when it names none (testing, unstable).
func DistroVersion(root string) string {
	data, err := os.ReadFile(filepath.Join(root, "etc", "os-release"))
	if err != nil {
		data, _ = os.ReadFile(filepath.Join(root, "usr", "lib", "os-release"))
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VERSION_ID="); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

func md5File(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("recording %s: %w", file, err)
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("recording %s: %w", file, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortByName(pkgs []*Package) {
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
}
