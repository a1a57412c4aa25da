package golang

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
)

// goVersion is a Go release version: 1.25.4, 1.26rc1, or a release line 1.25 (hasPatch false).
type goVersion struct {
	Major, Minor, Patch int
	HasPatch            bool
	Pre                 string // "rc1", "beta2"; empty for releases
}

var goVersionRE = regexp.MustCompile(`^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?((?:rc|beta)\d+)?$`)

// parseGoVersion reads a Go version as the go command writes it: 1.25.4, go1.26rc1, 1.25 (a
// release line). Numbers with a leading zero or too large for an int are refused.
func parseGoVersion(s string) (goVersion, bool) {
	m := goVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return goVersion{}, false
	}
	var v goVersion
	var ok1, ok2, ok3 bool
	v.Major, ok1 = versionNumber(m[1])
	v.Minor, ok2 = versionNumber(m[2])
	ok3 = true
	if m[3] != "" {
		if m[4] != "" { // 1.2.3rc1 is not a Go version
			return goVersion{}, false
		}
		v.Patch, ok3 = versionNumber(m[3])
		v.HasPatch = true
	}
	v.Pre = m[4]
	return v, ok1 && ok2 && ok3
}

// versionNumber reads one number of a version: digits, no leading zero, within an int.
func versionNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && (s == "0" || s[0] != '0')
}

// String renders the version the way the go command names it (without "go").
func (v goVersion) String() string {
	switch {
	case v.Pre != "":
		return fmt.Sprintf("%d.%d%s", v.Major, v.Minor, v.Pre)
	case v.HasPatch:
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	default:
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
}

// exact reports whether v names one toolchain (1.25.4, 1.26rc1), not a release line.
func (v goVersion) exact() bool { return v.HasPatch || v.Pre != "" }

// compare orders versions: 1.25 (line) < 1.25rc1 < 1.25.0 < 1.25.1.
func (v goVersion) compare(o goVersion) int {
	if c := cmpInt(v.Major, o.Major); c != 0 {
		return c
	}
	if c := cmpInt(v.Minor, o.Minor); c != 0 {
		return c
	}
	if c := cmpInt(v.rank(), o.rank()); c != 0 {
		return c
	}
	if v.Pre != o.Pre {
		return comparePre(v.Pre, o.Pre)
	}
	return cmpInt(v.Patch, o.Patch)
}

func (v goVersion) rank() int {
	switch {
	case v.Pre != "":
		return 1
	case v.HasPatch:
		return 2
	}
	return 0
}

func comparePre(a, b string) int {
	kind := func(s string) (int, int) {
		for i, p := range []string{"beta", "rc"} {
			if strings.HasPrefix(s, p) {
				n, _ := strconv.Atoi(s[len(p):])
				return i, n
			}
		}
		return -1, 0
	}
	ak, an := kind(a)
	bk, bn := kind(b)
	if c := cmpInt(ak, bk); c != 0 {
		return c
	}
	return cmpInt(an, bn)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type matchKind int

const (
	matchExact   matchKind = iota // exactly this toolchain
	matchLine                     // any patch release of Major.Minor
	matchAtLeast                  // any release >= Major.Minor.0
)

// versionRequest is what the app asks for and why.
type versionRequest struct {
	Version goVersion
	Kind    matchKind
	Source  string // human readable reason, e.g. "BP_GO_VERSION=1.25" or "go.mod toolchain directive"
}

// satisfiedBy reports whether toolchain version have fulfils the request.
func (r versionRequest) satisfiedBy(have goVersion) bool {
	switch r.Kind {
	case matchExact:
		return have.compare(r.Version) == 0
	case matchLine:
		return have.Major == r.Version.Major && have.Minor == r.Version.Minor && have.Pre == "" && have.HasPatch
	case matchAtLeast:
		return have.Pre == "" && have.HasPatch && have.compare(r.minimum()) >= 0
	}
	return false
}

// minimum is the oldest release an at-least request accepts: 1.22 means 1.22.0.
func (r versionRequest) minimum() goVersion {
	m := r.Version
	m.HasPatch, m.Pre = true, ""
	if !r.Version.HasPatch {
		m.Patch = 0
	}
	return m
}

func (r versionRequest) String() string {
	switch r.Kind {
	case matchLine:
		return fmt.Sprintf("latest %s.x (%s)", r.Version, r.Source)
	case matchAtLeast:
		return fmt.Sprintf(">= %s (%s)", r.minimum(), r.Source)
	}
	return fmt.Sprintf("%s (%s)", r.Version, r.Source)
}

// goModInfo is what the buildpack needs from go.mod.
type goModInfo struct {
	ModulePath string
	Go         string // go directive, "" if absent
	Toolchain  string // toolchain directive without "go", "" if absent or "default"
	// Requires are the required module paths whose sums go.sum must hold: all but those
	// replaced by a local directory.
	Requires []string
}

func readGoMod(appDir string) (goModInfo, error) {
	path := filepath.Join(appDir, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return goModInfo{}, fmt.Errorf("unable to read %s: %w", path, err)
	}
	return parseGoMod(path, data)
}

func parseGoMod(path string, data []byte) (goModInfo, error) {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return goModInfo{}, fmt.Errorf("unable to parse %s: %w", path, err)
	}
	var info goModInfo
	if f.Module != nil {
		info.ModulePath = f.Module.Mod.Path
	}
	if f.Go != nil {
		info.Go = f.Go.Version
	}
	if f.Toolchain != nil && f.Toolchain.Name != "default" {
		info.Toolchain = strings.TrimPrefix(f.Toolchain.Name, "go")
	}
	local := map[string]bool{}
	for _, r := range f.Replace {
		if r.New.Version == "" { // a directory: no checksum
			local[r.Old.Path] = true
		}
	}
	for _, r := range f.Require {
		if !local[r.Mod.Path] {
			info.Requires = append(info.Requires, r.Mod.Path)
		}
	}
	return info, nil
}

// versionEnv is the build's settings that choose a Go version.
type versionEnv struct {
	BPGoVersion string // BP_GO_VERSION
	GoToolchain string // GOTOOLCHAIN: go1.X.Y[+auto|+path] pins like BP_GO_VERSION; local, auto, path do not
}

// anyGo is the request of a project that names no Go version: any release, so the newest.
var anyGo = versionRequest{Version: goVersion{Major: 1, Minor: 0}, Kind: matchAtLeast, Source: "no go directive"}

// selectVersion decides which Go the build needs: BP_GO_VERSION, else a version in GOTOOLCHAIN,
// else the toolchain line of go.mod (or go.work), else its go line, which is a minimum: the build
// then takes the newest release. A project that names no version gets anyGo.
func selectVersion(path string, mod goModInfo, env versionEnv) (versionRequest, error) {
	file := filepath.Base(path)
	if s := strings.TrimSpace(env.BPGoVersion); s != "" {
		v, valid := parseGoVersion(s)
		if !valid {
			return versionRequest{}, fmt.Errorf("BP_GO_VERSION=%q is not a Go version: use 1.X.Y (exact) or 1.X (latest patch release)", env.BPGoVersion)
		}
		kind := matchExact
		if !v.exact() {
			kind = matchLine
		}
		return versionRequest{Version: v, Kind: kind, Source: "BP_GO_VERSION=" + s}, nil
	}
	if name, _, _ := strings.Cut(strings.TrimSpace(env.GoToolchain), "+"); strings.HasPrefix(name, "go") {
		v, valid := parseGoVersion(name)
		if !valid || !v.exact() {
			return versionRequest{}, fmt.Errorf("GOTOOLCHAIN=%q does not name a Go release: use go1.X.Y, local or auto", env.GoToolchain)
		}
		return versionRequest{Version: v, Kind: matchExact, Source: "GOTOOLCHAIN=" + env.GoToolchain}, nil
	}
	if mod.Toolchain != "" {
		v, valid := parseGoVersion(mod.Toolchain)
		if !valid || !v.exact() {
			return versionRequest{}, fmt.Errorf("%s: toolchain directive %q does not name a Go release (want go1.X.Y)", path, "go"+mod.Toolchain)
		}
		return versionRequest{Version: v, Kind: matchExact, Source: file + " toolchain directive"}, nil
	}
	if mod.Go != "" {
		v, valid := parseGoVersion(mod.Go)
		if !valid {
			return versionRequest{}, fmt.Errorf("%s: go directive %q is not a Go version (want go 1.X or go 1.X.Y)", path, mod.Go)
		}
		return versionRequest{Version: v, Kind: matchAtLeast, Source: file + " go directive"}, nil
	}
	return anyGo, nil
}

// pickToolchain chooses the newest listed release that satisfies req: for an at-least request the
// newest Go there is (the go directive is a minimum), for a line the newest patch of that line.
// listed holds toolchain names as listed for golang.org/toolchain, e.g. v0.0.1-go1.25.4.linux-amd64.
func pickToolchain(req versionRequest, listed []string, goos, goarch string) (goVersion, bool) {
	suffix := "." + goos + "-" + goarch
	var cands []goVersion
	for _, l := range listed {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "v0.0.1-go") || !strings.HasSuffix(l, suffix) {
			continue
		}
		v, ok := parseGoVersion(strings.TrimSuffix(strings.TrimPrefix(l, "v0.0.1-go"), suffix))
		if !ok || !v.exact() {
			continue
		}
		if req.satisfiedBy(v) {
			cands = append(cands, v)
		}
	}
	if len(cands) == 0 {
		return goVersion{}, false
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].compare(cands[j]) > 0 })
	return cands[0], true
}
