package node

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/buildpacks/libcnb/v2"
)

// Package manager kinds.
const (
	PMNpm   = "npm"
	PMYarn  = "yarn" // Yarn classic (1.x)
	PMBerry = "yarn-berry"
	PMPnpm  = "pnpm"
)

// packageManager is the tool that installs the app's dependencies.
type packageManager struct {
	Kind   string
	Lock   string // lock file name ("" without one)
	Pkg    string // npm package that ships the tool
	Spec   string // exact version or range of Pkg
	Source string // why this tool and version
	Hash   packageManagerField

	IgnoredLocks []string // lock files present but not used
	LockWhy      string   // why Lock was used over IgnoredLocks

	YarnPath   string // berry: the project's own release (yarnPath in .yarnrc.yml)
	NodeLinker string // berry: nodeLinker in .yarnrc.yml

	Version string   // resolved version
	Argv    []string // how to run it (node + entry script, or the binary)
}

// lockFiles are the lock files in the order a lone lock file is picked when several are present:
// pnpm, then Yarn, then npm (npm-shrinkwrap.json before package-lock.json, as npm reads them).
// Paketo's and Google Cloud's buildpacks likewise take yarn.lock over package-lock.json.
var lockFiles = []struct{ Name, Kind string }{
	{"pnpm-lock.yaml", PMPnpm}, {"yarn.lock", PMYarn}, {"npm-shrinkwrap.json", PMNpm}, {"package-lock.json", PMNpm},
}

// lockChoice is the lock file a build uses and the ones it ignores.
type lockChoice struct {
	Kind, Lock string
	Ignored    []string
	Why        string // why Lock, when others were ignored
}

// chooseLock picks the lock file: the one of the packageManager tool (kind, "" when unset) when
// package.json names one, else the first of lockFiles present. A packageManager with no lock of its
// own beside another tool's lock is an error naming both.
func chooseLock(appDir, kind, pkgManager string) (lockChoice, error) {
	var present []string
	presentKind := map[string]string{}
	for _, lf := range lockFiles {
		if fileExists(filepath.Join(appDir, lf.Name)) {
			present = append(present, lf.Name)
			presentKind[lf.Name] = lf.Kind
		}
	}
	if kind == PMBerry {
		kind = PMYarn
	}
	var c lockChoice
	for _, name := range present {
		if kind == "" || presentKind[name] == kind {
			c.Kind, c.Lock = presentKind[name], name
			break
		}
	}
	if c.Lock == "" && len(present) > 0 {
		return c, fmt.Errorf("%s: packageManager %q does not match the lock file %s: run that package manager to write its lock file and commit it, or change packageManager", filepath.Join(appDir, "package.json"), pkgManager, strings.Join(present, ", "))
	}
	for _, name := range present {
		if name != c.Lock {
			c.Ignored = append(c.Ignored, name)
		}
	}
	switch {
	case len(c.Ignored) == 0:
	case kind != "":
		c.Why = fmt.Sprintf("packageManager %q in package.json", pkgManager)
	default:
		c.Why = "no packageManager in package.json, so pnpm-lock.yaml, then yarn.lock (as Paketo's and Google Cloud's buildpacks take it over package-lock.json), then npm's lock file; set packageManager to choose, or delete the lock file you do not use"
	}
	return c, nil
}

// detectPackageManager chooses the tool from packageManager in package.json, else the lock file.
func detectPackageManager(appDir string, pkg packageJSON) (packageManager, error) {
	field, err := parsePackageManager(pkg.PackageManager)
	if err != nil {
		return packageManager{}, fmt.Errorf("%s: %w", filepath.Join(appDir, "package.json"), err)
	}
	fieldKind := field.Name
	if fieldKind == "yarn" {
		if v, err := semver.NewVersion(field.Version); err == nil && v.Major() >= 2 {
			fieldKind = PMBerry
		}
	}
	lc, err := chooseLock(appDir, fieldKind, pkg.PackageManager)
	if err != nil {
		return packageManager{}, err
	}
	pm := packageManager{Kind: PMNpm, Lock: lc.Lock, IgnoredLocks: lc.Ignored, LockWhy: lc.Why}
	switch {
	case lc.Kind == PMYarn && !isYarnClassicLock(filepath.Join(appDir, "yarn.lock")):
		pm.Kind = PMBerry
	case lc.Kind != "":
		pm.Kind = lc.Kind
	case fileExists(filepath.Join(appDir, ".yarnrc.yml")):
		pm.Kind = PMBerry
	}
	pm.Source = "lock file " + pm.Lock
	if pm.Lock == "" {
		pm.Source = "no lock file"
	}
	if field.Name != "" {
		if fieldKind != pm.Kind && pm.Lock != "" {
			return packageManager{}, fmt.Errorf("%s: packageManager %q does not match the lock file %s (a %s lock): regenerate the lock file with that package manager, or change packageManager", filepath.Join(appDir, "package.json"), pkg.PackageManager, pm.Lock, pm.Kind)
		}
		pm.Kind, pm.Spec, pm.Hash = fieldKind, field.Version, field
		pm.Source = "packageManager " + pkg.PackageManager
	}

	if pm.Kind == PMBerry {
		rc := readYarnrc(filepath.Join(appDir, ".yarnrc.yml"))
		pm.NodeLinker = rc["nodeLinker"]
		if p := rc["yarnPath"]; p != "" {
			rel := filepath.Clean(p)
			if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
				return packageManager{}, fmt.Errorf("%s: yarnPath %q lies outside the app directory, so it is not in the build: commit the release under .yarn/releases and point yarnPath there", filepath.Join(appDir, ".yarnrc.yml"), p)
			}
			if fileExists(filepath.Join(appDir, rel)) {
				pm.YarnPath = filepath.Join(appDir, rel)
			}
		}
	}

	switch pm.Kind {
	case PMNpm:
		pm.Pkg = "npm"
		if pm.Spec == "" {
			pm.Spec = npmSpecFromEngines(pkg.Engines["npm"])
		}
	case PMYarn:
		pm.Pkg = "yarn"
		if pm.Spec == "" {
			pm.Spec = "1.x"
		}
	case PMBerry:
		pm.Pkg = "@yarnpkg/cli-dist"
		if pm.Spec == "" {
			pm.Spec = "4.x"
		}
	case PMPnpm:
		pm.Pkg = "pnpm"
		if pm.Spec == "" {
			pm.Spec = pnpmSpecForLock(filepath.Join(appDir, "pnpm-lock.yaml"))
		}
	}
	return pm, nil
}

func npmSpecFromEngines(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "" // newest npm that supports the chosen Node.js
	}
	return s
}

func isYarnClassicLock(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 0; i < 10 && sc.Scan(); i++ {
		line := sc.Text()
		if strings.Contains(line, "yarn lockfile v1") {
			return true
		}
		if strings.HasPrefix(line, "__metadata:") {
			return false
		}
	}
	return true
}

var lockfileVersionRE = regexp.MustCompile(`(?m)^lockfileVersion:\s*['"]?([0-9.]+)`)

// pnpmSpecForLock picks the pnpm release line that writes the lock file's format.
func pnpmSpecForLock(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "10.x"
	}
	m := lockfileVersionRE.FindSubmatch(data)
	if m == nil {
		return "10.x"
	}
	v := string(m[1])
	switch {
	case strings.HasPrefix(v, "9"):
		return "10.x || 9.x"
	case strings.HasPrefix(v, "6"):
		return "8.x"
	case v == "5.4":
		return "7.x"
	case strings.HasPrefix(v, "5"):
		return "6.x"
	}
	return "10.x"
}

// readYarnrc reads the top-level scalar settings of a .yarnrc.yml.
func readYarnrc(path string) map[string]string {
	out := map[string]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if i := strings.Index(v, " #"); i >= 0 && !strings.ContainsAny(v[:i], `"'`) {
			v = v[:i] // a comment after an unquoted value
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// installPackageManager puts the tool in the package-manager layer (npm's registry is the source,
// the download is checked against dist.integrity and packageManager's hash) and sets pm.Argv.
// nodeBin runs JavaScript entry points. The layer is reused while the package and spec are unchanged.
func (b *Builder) installPackageManager(npm npmClient, pm *packageManager, nodeBin string, node *semver.Version, layer *libcnb.Layer) (bool, error) {
	if pm.YarnPath != "" {
		pm.Argv = []string{nodeBin, pm.YarnPath}
		pm.Version = "yarnPath"
		b.Logger.Bodyf("Using the project's Yarn release %s (yarnPath in .yarnrc.yml)", pm.YarnPath)
		return false, nil
	}
	layer.LayerTypes = libcnb.LayerTypes{Build: true, Cache: true}
	pkgDir := filepath.Join(layer.Path, "lib", "node_modules", filepath.FromSlash(pm.Pkg))
	key := map[string]interface{}{"package": pm.Pkg, "spec": pm.Spec, "hash": pm.Hash.Hash}
	if pm.Spec == "" { // npm's default depends on the Node.js version
		key["node"] = node.Original()
	}
	have := map[string]interface{}{}
	for k := range key {
		have[k] = layer.Metadata[k]
	}
	if v, _ := layer.Metadata["version"].(string); v != "" && metadataEqual(have, key) && fileExists(filepath.Join(pkgDir, "package.json")) {
		argv, err := toolArgv(pkgDir, nodeBin, pm.Pkg)
		if err == nil {
			pm.Version, pm.Argv = v, argv
			b.Logger.Bodyf("Reusing cached %s %s (%s)", pm.Pkg, v, pm.Source)
			return true, nil
		}
	}

	version, err := b.resolveToolVersion(npm, pm, node)
	if err != nil {
		return false, err
	}
	b.Logger.Bodyf("Installing %s %s (%s)", pm.Pkg, version, pm.Source)
	tmp, err := os.MkdirTemp("", "distill-node-pm")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	tarball, integrity, err := npm.fetch(pm.Pkg, version, tmp)
	if err != nil {
		return false, err
	}
	if pm.Hash.Hash != "" {
		if err := verifyHex(tarball, pm.Hash.HashAlgo, pm.Hash.Hash); err != nil {
			return false, fmt.Errorf("packageManager hash check failed: %w", err)
		}
		b.Logger.Bodyf("Verified the packageManager %s hash", pm.Hash.HashAlgo)
	}
	if err := resetDir(layer.Path); err != nil {
		return false, err
	}
	if err := extractPackage(tarball, pkgDir); err != nil {
		return false, err
	}
	argv, err := toolArgv(pkgDir, nodeBin, pm.Pkg)
	if err != nil {
		return false, err
	}
	if err := linkBins(pkgDir, filepath.Join(layer.Path, "bin")); err != nil {
		return false, err
	}
	pm.Version, pm.Argv = version, argv
	layer.Metadata = key
	layer.Metadata["version"] = version
	layer.Metadata["integrity"] = integrity
	return true, nil
}

// resolveToolVersion turns the spec into one published version: the newest release matching the
// spec whose engines.node accepts the chosen Node.js (for an old Node.js, the npm line that
// supports it), from one registry query.
func (b *Builder) resolveToolVersion(npm npmClient, pm *packageManager, node *semver.Version) (string, error) {
	if v, err := semver.StrictNewVersion(pm.Spec); err == nil {
		return v.Original(), nil
	}
	if pm.Spec != "" {
		if _, err := semver.NewConstraint(pm.Spec); err != nil {
			return "", fmt.Errorf("%s: %q is not a version or range of %s (fix package.json): %v", pm.Source, pm.Spec, pm.Pkg, err)
		}
	}
	engines, err := npm.releaseEngines(pm.Pkg, pm.Spec)
	if err != nil {
		return "", fmt.Errorf("listing the releases of %s for Node.js %s: %w", pm.Pkg, node, err)
	}
	v, why, err := pickToolVersion(engines, node)
	if err != nil {
		what := "any release"
		if pm.Spec != "" {
			what = pm.Spec
		}
		return "", fmt.Errorf("no release of %s matching %s (%s) supports Node.js %s: %v; set packageManager or engines in package.json to a release that does", pm.Pkg, what, pm.Source, node, err)
	}
	b.Logger.Bodyf("%s %s: %s", pm.Pkg, v, why)
	return v, nil
}

// pickToolVersion chooses the newest release (no pre-release) whose engines.node accepts node; a
// release without engines.node, or with one that does not parse, is taken as accepting any.
func pickToolVersion(engines map[string]string, node *semver.Version) (string, string, error) {
	listed := make([]string, 0, len(engines))
	for v := range engines {
		listed = append(listed, v)
	}
	vs := releases(listed)
	if len(vs) == 0 {
		return "", "", errors.New("the registry lists no matching release")
	}
	for _, v := range vs {
		e := engines[v.Original()]
		if e == "" {
			return v.Original(), "the newest matching release (it declares no engines.node)", nil
		}
		c, err := semver.NewConstraint(e)
		if err != nil {
			return v.Original(), fmt.Sprintf("the newest matching release (its engines.node %q does not parse)", e), nil
		}
		if c.Check(node) {
			if v == vs[0] {
				return v.Original(), fmt.Sprintf("the newest matching release (engines.node %q)", e), nil
			}
			return v.Original(), fmt.Sprintf("the newest release whose engines.node (%q) accepts Node.js %s; %s needs %q", e, node, vs[0], engines[vs[0].Original()]), nil
		}
	}
	return "", "", fmt.Errorf("%d releases from %s to %s, none accepts it in engines.node (the newest needs %q)", len(vs), vs[len(vs)-1], vs[0], engines[vs[0].Original()])
}

// toolArgv reads the package's bin entry for its main command and returns how to run it.
func toolArgv(pkgDir, nodeBin, pkg string) ([]string, error) {
	bins, err := packageBins(pkgDir)
	if err != nil {
		return nil, err
	}
	cmd := map[string]string{"npm": "npm", "yarn": "yarn", "@yarnpkg/cli-dist": "yarn", "pnpm": "pnpm"}[pkg]
	rel, ok := bins[cmd]
	if !ok {
		return nil, fmt.Errorf("package %s has no %q command", pkg, cmd)
	}
	entry := filepath.Join(pkgDir, filepath.FromSlash(rel))
	if isELF(entry) {
		return []string{entry}, nil
	}
	return []string{nodeBin, entry}, nil
}

// packageBins reads the "bin" field of <dir>/package.json (a string means the package's name).
func packageBins(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	var p struct {
		Name string          `json:"name"`
		Bin  json.RawMessage `json:"bin"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s/package.json: %w", dir, err)
	}
	out := map[string]string{}
	var one string
	if json.Unmarshal(p.Bin, &one) == nil && one != "" {
		name := p.Name
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name = name[i+1:]
		}
		out[name] = one
		return out, nil
	}
	if len(p.Bin) > 0 {
		if err := json.Unmarshal(p.Bin, &out); err != nil {
			return nil, fmt.Errorf("%s/package.json: bin: %w", dir, err)
		}
	}
	return out, nil
}

// linkBins creates binDir/<command> symlinks for the package's commands (for build scripts that call
// the package manager).
func linkBins(pkgDir, binDir string) error {
	bins, err := packageBins(pkgDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	for name, rel := range bins {
		target := filepath.Join(pkgDir, filepath.FromSlash(rel))
		if err := os.Chmod(target, 0o755); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		r, err := filepath.Rel(binDir, target)
		if err != nil {
			return err
		}
		if err := os.Symlink(r, filepath.Join(binDir, name)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return nil
}

func isELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 4)
	n, _ := f.Read(buf)
	return n == 4 && string(buf) == "\x7fELF"
}
