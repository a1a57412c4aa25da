package python

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// requirementSet is what pip installs into the venv layer, and where it came from.
type requirementSet struct {
	Source string // the file it came from: "requirements.txt", "poetry.lock", ...
	// File is a requirements file in the app to pass to pip as -r; empty when Lines are generated.
	File  string
	Lines []string // generated requirement lines (lock files, pyproject, Pipfile)
	// Locked: the lines are a complete, exact set (install with --no-deps).
	Locked bool
	// KeyData identifies the set: the venv layer is reused while it (and the Python version) is
	// unchanged.
	KeyData []byte
	// NoReuse: the set names local paths whose content can change with the code (-e ., ./pkg):
	// reinstall every build.
	NoReuse bool
	// InstallProject: the app itself is a package (pyproject [build-system], setup.py, an
	// editable root in uv.lock): pip-install it without its dependencies into the project layer.
	InstallProject bool
	// ProjectDeps: installing the project should also install its dependencies (setup.py-only
	// projects, whose dependencies the buildpack cannot read).
	ProjectDeps bool
	Direct      []string // normalised names the app asks for by name
	Notes       []string // things to tell the user
}

func (r requirementSet) empty() bool { return r.File == "" && len(r.Lines) == 0 }

var normRE = regexp.MustCompile(`[-_.]+`)

// normalize is the PEP 503 name normalisation.
func normalize(name string) string { return strings.ToLower(normRE.ReplaceAllString(name, "-")) }

var reqNameRE = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)`)

// reqName is the distribution name a PEP 508 requirement starts with.
func reqName(line string) string {
	m := reqNameRE.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	return normalize(m[1])
}

// resolveRequirements decides what to install: requirements.txt, else Pipfile.lock, poetry.lock,
// uv.lock, Pipfile, then pyproject.toml / setup.py.
func resolveRequirements(appDir string) (requirementSet, error) {
	pp, err := readPyproject(appDir)
	if err != nil {
		return requirementSet{}, err
	}
	setupPy, err := isFile(filepath.Join(appDir, "setup.py"))
	if err != nil {
		return requirementSet{}, err
	}
	packaged := (pp != nil && pp.BuildSystem != nil) || setupPy
	var rootNotes []string // why a Poetry project is (not) installed
	if poetryManaged(pp) && !setupPy {
		if packaged, rootNotes, err = poetryRoot(appDir, pp); err != nil {
			return requirementSet{}, err
		}
	}

	if ok, err := isFile(filepath.Join(appDir, "requirements.txt")); err != nil {
		return requirementSet{}, err
	} else if ok {
		return fromRequirementsTxt(appDir, "requirements.txt")
	}
	for _, lock := range []struct {
		file  string
		parse func(string, []byte, *pyproject) (requirementSet, error)
	}{
		{"Pipfile.lock", fromPipfileLock},
		{"poetry.lock", fromPoetryLock},
		{"uv.lock", fromUVLock},
		{"Pipfile", fromPipfile},
	} {
		p := filepath.Join(appDir, lock.file)
		data, err := readOptional(p)
		if err != nil {
			return requirementSet{}, err
		}
		if data == nil {
			continue
		}
		rs, err := lock.parse(p, data, pp)
		if err != nil {
			return requirementSet{}, err
		}
		rs.Source = lock.file
		if lock.file == "poetry.lock" {
			rs.InstallProject = packaged
			rs.Notes = append(rs.Notes, rootNotes...)
		}
		rs.KeyData = append(rs.KeyData, data...)
		return rs, nil
	}
	if pp != nil && (len(pp.Project.Dependencies) > 0 || pp.Project.Name != "") {
		rs := requirementSet{Source: "pyproject.toml [project] dependencies", Lines: pp.Project.Dependencies,
			InstallProject: pp.BuildSystem != nil, Notes: rootNotes}
		if poetryManaged(pp) {
			rs.InstallProject = packaged
		}
		for _, d := range pp.Project.Dependencies {
			rs.Direct = append(rs.Direct, reqName(d))
		}
		rs.KeyData = []byte(strings.Join(pp.Project.Dependencies, "\n"))
		return rs, checkLines(filepath.Join(appDir, "pyproject.toml"), rs.Lines)
	}
	if packaged {
		src := "setup.py"
		if !setupPy {
			src = "pyproject.toml [build-system]"
		}
		return requirementSet{Source: src, InstallProject: true, ProjectDeps: true, Notes: rootNotes}, nil
	}
	return requirementSet{Source: "none", Notes: rootNotes}, nil
}

// fromRequirementsTxt passes the file to pip; the key covers it and the files it includes
// (-r/-c). Local paths (-e ., ./pkg, file:) make the set change with the code: no reuse.
func fromRequirementsTxt(appDir, name string) (requirementSet, error) {
	rs := requirementSet{Source: name, File: filepath.Join(appDir, name)}
	seen := map[string]bool{}
	var walk func(p, includedBy string) error
	walk = func(p, includedBy string) error {
		if seen[p] {
			return nil
		}
		seen[p] = true
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("unable to read %s%s: %w", p, includedBy, err)
		}
		rs.KeyData = append(rs.KeyData, []byte("\x00"+p+"\x00")...)
		rs.KeyData = append(rs.KeyData, data...)
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if i := strings.Index(line, " #"); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if include, ok := includedFile(line); ok {
				if include == "" {
					return fmt.Errorf("%s: %q names no file", p, line)
				}
				if err := walk(filepath.Join(filepath.Dir(p), include), fmt.Sprintf(" (%s: %s)", p, line)); err != nil {
					return err
				}
				continue
			}
			switch {
			case strings.HasPrefix(line, "-e ") || strings.HasPrefix(line, "--editable") || strings.HasPrefix(line, ".") ||
				strings.HasPrefix(line, "/") || strings.HasPrefix(line, "file:") || strings.Contains(line, "@ file:"):
				rs.NoReuse = true
			case strings.HasPrefix(line, "-"):
			default:
				if n := reqName(line); n != "" {
					rs.Direct = append(rs.Direct, n)
				}
			}
		}
		return nil
	}
	if err := walk(rs.File, ""); err != nil {
		return rs, err
	}
	return rs, nil
}

// includedFile is the file a requirements line includes with -r/-c (-r f, -rf, --requirement f,
// --requirement=f and the same for constraints); ok is false for any other line.
func includedFile(line string) (name string, ok bool) {
	for _, opt := range []string{"--requirement", "--constraint", "-r", "-c"} {
		rest, found := strings.CutPrefix(line, opt)
		if !found {
			continue
		}
		if strings.HasPrefix(opt, "--") && rest != "" && rest[0] != '=' && rest[0] != ' ' && rest[0] != '\t' {
			continue // a longer option that starts the same
		}
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(rest), "="))
		if len(fields) == 0 {
			return "", true
		}
		return fields[0], true
	}
	return "", false
}

// checkLines refuses generated requirement lines that hold a line break: written to the
// requirements file pip reads, one would become two (a package, an option).
func checkLines(path string, lines []string) error {
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return fmt.Errorf("%s: %q holds a line break in a name, version, marker, url or path: fix the file", path, l)
		}
	}
	return nil
}

// pin renders one locked requirement line.
func pin(name string, extras []string, version, marker string, hashes []string) string {
	l := name
	if len(extras) > 0 {
		l += "[" + strings.Join(extras, ",") + "]"
	}
	l += "==" + version
	if marker != "" {
		l += " ; " + marker
	}
	for _, h := range hashes {
		l += " --hash=" + h
	}
	return l
}

// finishHashes keeps hashes only if every line has one (pip requires all or none).
func finishHashes(lines []string, hashed []bool, notes *[]string, source string) []string {
	all, any := true, false
	for _, h := range hashed {
		all = all && h
		any = any || h
	}
	if all || !any {
		return lines
	}
	*notes = append(*notes, source+": some pins have no hashes, so none are checked")
	out := make([]string, len(lines))
	for i, l := range lines {
		if j := strings.Index(l, " --hash="); j >= 0 {
			l = l[:j]
		}
		out[i] = l
	}
	return out
}

// fromPipfileLock installs the "default" section (pipenv's main group) as exact pins.
func fromPipfileLock(path string, data []byte, _ *pyproject) (requirementSet, error) {
	var lock struct {
		Default map[string]struct {
			Version  string   `json:"version"`
			Hashes   []string `json:"hashes"`
			Markers  string   `json:"markers"`
			Extras   []string `json:"extras"`
			Git      string   `json:"git"`
			Ref      string   `json:"ref"`
			Path     string   `json:"path"`
			File     string   `json:"file"`
			Editable bool     `json:"editable"`
		} `json:"default"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return requirementSet{}, fmt.Errorf("unable to parse %s: %w", path, err)
	}
	rs := requirementSet{Locked: true}
	names := make([]string, 0, len(lock.Default))
	for n := range lock.Default {
		names = append(names, n)
	}
	sort.Strings(names)
	var hashed []bool
	for _, n := range names {
		e := lock.Default[n]
		var line string
		switch {
		case e.Git != "":
			line = n + " @ git+" + e.Git
			if e.Ref != "" {
				line += "@" + e.Ref
			}
			if e.Markers != "" {
				line += " ; " + e.Markers
			}
		case e.Path != "" || e.File != "":
			p := e.Path
			if p == "" {
				p = e.File
			}
			if p == "." {
				rs.InstallProject = true
				continue
			}
			rs.NoReuse = true
			line = n + " @ file://" + filepath.Join(filepath.Dir(path), p)
			if e.Markers != "" {
				line += " ; " + e.Markers
			}
		case e.Version != "":
			line = pin(n, e.Extras, strings.TrimPrefix(e.Version, "=="), e.Markers, e.Hashes)
		default:
			return rs, fmt.Errorf("%s: package %q has no version, git, path or file", path, n)
		}
		rs.Lines = append(rs.Lines, line)
		hashed = append(hashed, len(e.Hashes) > 0 && e.Git == "" && e.Path == "" && e.File == "")
		rs.Direct = append(rs.Direct, normalize(n))
	}
	rs.Lines = finishHashes(rs.Lines, hashed, &rs.Notes, "Pipfile.lock")
	return rs, checkLines(path, rs.Lines)
}

// fromPipfile reads [packages] of a Pipfile without a lock (not exact: pip resolves).
func fromPipfile(path string, data []byte, _ *pyproject) (requirementSet, error) {
	var pf struct {
		Packages map[string]interface{} `toml:"packages"`
	}
	if _, err := toml.Decode(string(data), &pf); err != nil {
		return requirementSet{}, fmt.Errorf("unable to parse %s: %w", path, err)
	}
	rs := requirementSet{Notes: []string{"Pipfile has no Pipfile.lock: pip resolves [packages] (lock it for exact builds)"}}
	names := make([]string, 0, len(pf.Packages))
	for n := range pf.Packages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		line := n
		switch v := pf.Packages[n].(type) {
		case string:
			if v != "*" {
				line += v
			}
		case map[string]interface{}:
			if ex, ok := v["extras"].([]interface{}); ok && len(ex) > 0 {
				var s []string
				for _, e := range ex {
					s = append(s, fmt.Sprint(e))
				}
				line += "[" + strings.Join(s, ",") + "]"
			}
			if g, ok := v["git"].(string); ok {
				line = n + " @ git+" + g
				if ref, ok := v["ref"].(string); ok {
					line += "@" + ref
				}
			} else if ver, ok := v["version"].(string); ok && ver != "*" {
				line += ver
			}
			if m, ok := v["markers"].(string); ok && m != "" {
				line += " ; " + m
			}
		default:
			return rs, fmt.Errorf("%s: [packages] %s has an unsupported value %v", path, n, v)
		}
		rs.Lines = append(rs.Lines, line)
		rs.Direct = append(rs.Direct, normalize(n))
	}
	return rs, checkLines(path, rs.Lines)
}

// poetryFile is one distribution file of a locked package, with its hash.
type poetryFile struct {
	File string `toml:"file"`
	Hash string `toml:"hash"`
}

type poetryPackage struct {
	Name         string                 `toml:"name"`
	Version      string                 `toml:"version"`
	Optional     bool                   `toml:"optional"`
	Category     string                 `toml:"category"`
	Groups       []string               `toml:"groups"`
	Markers      interface{}            `toml:"markers"`
	Dependencies map[string]interface{} `toml:"dependencies"`
	Files        []poetryFile           `toml:"files"`
	Source       *struct {
		Type              string `toml:"type"`
		URL               string `toml:"url"`
		Reference         string `toml:"reference"`
		ResolvedReference string `toml:"resolved_reference"`
	} `toml:"source"`
}

// poetryLockFile is poetry.lock: its packages, and (lock 1.x) their files under
// [metadata.files].
type poetryLockFile struct {
	Package  []poetryPackage `toml:"package"`
	Metadata struct {
		Files map[string][]poetryFile `toml:"files"`
	} `toml:"metadata"`
}

// fromPoetryLock installs the main group: packages whose groups (lock 2.1) or category (lock
// 1.x) say main, else the closure of pyproject's main dependencies. Optional packages (extras)
// are left out.
func fromPoetryLock(path string, data []byte, pp *pyproject) (requirementSet, error) {
	var lock poetryLockFile
	if _, err := toml.Decode(string(data), &lock); err != nil {
		return requirementSet{}, fmt.Errorf("unable to parse %s: %w", path, err)
	}
	byName := map[string]*poetryPackage{}
	for i := range lock.Package {
		byName[normalize(lock.Package[i].Name)] = &lock.Package[i]
	}
	rs := requirementSet{Locked: true}
	var hashed []bool
	for _, n := range poetryMain(byName, pp) {
		p := byName[n]
		line, hashes, err := poetryLine(path, p, lock.Metadata.Files[p.Name])
		if err != nil {
			return rs, err
		}
		rs.NoReuse = rs.NoReuse || (p.Source != nil && (p.Source.Type == "directory" || p.Source.Type == "file"))
		rs.Lines = append(rs.Lines, line)
		hashed = append(hashed, hashes > 0)
		rs.Direct = append(rs.Direct, n)
	}
	rs.Lines = finishHashes(rs.Lines, hashed, &rs.Notes, "poetry.lock")
	return rs, checkLines(path, rs.Lines)
}

// poetryMain is the sorted normalized names of the main group's non-optional
// packages: by groups (lock 2.1), else by category (lock 1.x), else the
// closure of pyproject's main dependencies through the lock.
func poetryMain(byName map[string]*poetryPackage, pp *pyproject) []string {
	hasGroups, hasCategory := false, false
	for _, p := range byName {
		hasGroups = hasGroups || len(p.Groups) > 0
		hasCategory = hasCategory || p.Category != ""
	}
	selected := map[string]bool{}
	switch {
	case hasGroups:
		for n, p := range byName {
			if slices.Contains(p.Groups, "main") {
				selected[n] = true
			}
		}
	case hasCategory:
		for n, p := range byName {
			if p.Category == "main" {
				selected[n] = true
			}
		}
	default:
		var visit func(string)
		visit = func(n string) {
			p, ok := byName[n]
			if !ok || selected[n] {
				return
			}
			selected[n] = true
			for d := range p.Dependencies {
				visit(normalize(d))
			}
		}
		for _, r := range poetryRoots(pp) {
			visit(r)
		}
	}
	names := make([]string, 0, len(selected))
	for n := range selected {
		if !byName[n].Optional {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// poetryRoots is the normalized names of pyproject's main dependencies
// ([tool.poetry.dependencies] but python, and [project] dependencies).
func poetryRoots(pp *pyproject) []string {
	if pp == nil {
		return nil
	}
	var roots []string
	for n := range pp.Tool.Poetry.Dependencies {
		if n != "python" {
			roots = append(roots, normalize(n))
		}
	}
	for _, d := range pp.Project.Dependencies {
		roots = append(roots, reqName(d))
	}
	return roots
}

// poetryLine is the requirement line that installs p (from the lock at path)
// and how many hashes it pins: a direct reference for git, url, directory and
// file sources, else a version pin with the hashes of p's files (or, lock
// 1.x, of metaFiles).
func poetryLine(path string, p *poetryPackage, metaFiles []poetryFile) (string, int, error) {
	marker := ""
	switch m := p.Markers.(type) {
	case string:
		marker = m
	case map[string]interface{}:
		if s, ok := m["main"].(string); ok {
			marker = s
		}
	}
	if p.Source == nil || p.Source.Type == "legacy" || p.Source.Type == "" {
		files := p.Files
		if len(files) == 0 {
			files = metaFiles
		}
		var hashes []string
		for _, f := range files {
			if f.Hash != "" {
				hashes = append(hashes, f.Hash)
			}
		}
		return pin(p.Name, nil, p.Version, marker, hashes), len(hashes), nil
	}
	var line string
	switch p.Source.Type {
	case "git":
		ref := p.Source.ResolvedReference
		if ref == "" {
			ref = p.Source.Reference
		}
		line = p.Name + " @ git+" + p.Source.URL + "@" + ref
	case "url":
		line = p.Name + " @ " + p.Source.URL
	case "directory", "file":
		line = p.Name + " @ file://" + filepath.Join(filepath.Dir(path), p.Source.URL)
	default:
		return "", 0, fmt.Errorf("%s: package %s has a source of type %q this buildpack cannot install", path, p.Name, p.Source.Type)
	}
	if marker != "" {
		line += " ; " + marker
	}
	return line, 0, nil
}

type uvDep struct {
	Name   string   `toml:"name"`
	Marker string   `toml:"marker"`
	Extra  []string `toml:"extra"`
}

type uvPackage struct {
	Name                 string             `toml:"name"`
	Version              string             `toml:"version"`
	Source               map[string]string  `toml:"source"`
	Dependencies         []uvDep            `toml:"dependencies"`
	OptionalDependencies map[string][]uvDep `toml:"optional-dependencies"`
	Sdist                *struct {
		Hash string `toml:"hash"`
	} `toml:"sdist"`
	Wheels []struct {
		Hash string `toml:"hash"`
	} `toml:"wheels"`
}

// uvReach walks a uv.lock from the root project's dependencies (and the extras each edge asks
// for), returning for each package reached (by normalised name) the markers of the edges that
// reach it, "" for an unconditional one. Each package's dependencies and each extra are walked
// once, so cycles (a[all] → a[x] → a[all]) end.
func uvReach(root *uvPackage, byName map[string]*uvPackage) map[string][]string {
	markers := map[string][]string{}
	expanded := map[string]bool{} // "name[extra]" whose optional dependencies were visited
	var visit func(d uvDep)
	visit = func(d uvDep) {
		n := normalize(d.Name)
		p, ok := byName[n]
		if !ok {
			return
		}
		prev, seen := markers[n]
		markers[n] = append(prev, d.Marker)
		for _, ex := range d.Extra {
			if expanded[n+"["+ex+"]"] {
				continue
			}
			expanded[n+"["+ex+"]"] = true
			for _, od := range p.OptionalDependencies[ex] {
				visit(od)
			}
		}
		if seen {
			return
		}
		for _, dd := range p.Dependencies {
			visit(dd)
		}
	}
	for _, d := range root.Dependencies {
		visit(d)
	}
	return markers
}

// uvMarker joins the markers of the edges reaching a package: none when one edge is
// unconditional, else the one marker or the parenthesised markers joined with or.
func uvMarker(markers []string) string {
	var ms []string
	for _, m := range markers {
		if m == "" {
			return ""
		}
		ms = append(ms, "("+m+")")
	}
	if len(ms) == 1 {
		return markers[0]
	}
	return strings.Join(ms, " or ")
}

// fromUVLock installs what the root project (source editable or virtual ".") depends on,
// transitively, without dev dependencies; markers come from the edges that reach a package.
func fromUVLock(path string, data []byte, _ *pyproject) (requirementSet, error) {
	var lock struct {
		Package []uvPackage `toml:"package"`
	}
	if _, err := toml.Decode(string(data), &lock); err != nil {
		return requirementSet{}, fmt.Errorf("unable to parse %s: %w", path, err)
	}
	byName := map[string]*uvPackage{}
	var root *uvPackage
	for i := range lock.Package {
		p := &lock.Package[i]
		byName[normalize(p.Name)] = p
		if p.Source["editable"] == "." || p.Source["virtual"] == "." {
			root = p
		}
	}
	if root == nil {
		return requirementSet{}, fmt.Errorf("%s: no package with source editable = \".\" or virtual = \".\" (the project itself)", path)
	}
	rs := requirementSet{Locked: true, InstallProject: root.Source["editable"] == "."}
	markers := uvReach(root, byName)
	names := make([]string, 0, len(markers))
	for n := range markers {
		if byName[n] != root {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var hashed []bool
	for _, n := range names {
		p := byName[n]
		marker := uvMarker(markers[n])
		var line string
		var hashes []string
		switch {
		case p.Source["git"] != "":
			line = p.Name + " @ git+" + p.Source["git"]
			if marker != "" {
				line += " ; " + marker
			}
		case p.Source["url"] != "":
			line = p.Name + " @ " + p.Source["url"]
			if marker != "" {
				line += " ; " + marker
			}
		case p.Source["path"] != "" || p.Source["directory"] != "" || p.Source["editable"] != "":
			rel := p.Source["path"] + p.Source["directory"] + p.Source["editable"]
			rs.NoReuse = true
			line = p.Name + " @ file://" + filepath.Join(filepath.Dir(path), rel)
			if marker != "" {
				line += " ; " + marker
			}
		default:
			for _, w := range p.Wheels {
				if w.Hash != "" {
					hashes = append(hashes, w.Hash)
				}
			}
			if p.Sdist != nil && p.Sdist.Hash != "" {
				hashes = append(hashes, p.Sdist.Hash)
			}
			line = pin(p.Name, nil, p.Version, marker, hashes)
		}
		rs.Lines = append(rs.Lines, line)
		hashed = append(hashed, len(hashes) > 0)
		rs.Direct = append(rs.Direct, n)
	}
	rs.Lines = finishHashes(rs.Lines, hashed, &rs.Notes, "uv.lock")
	return rs, checkLines(path, rs.Lines)
}
