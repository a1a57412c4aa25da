package python

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// pyVersion is a release version: 3.13.5 (N = [3 13 5]) or a prefix like 3.13 (N = [3 13]).
type pyVersion struct{ N []int }

var pyVersionRE = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?$`)

func parsePyVersion(s string) (pyVersion, bool) {
	m := pyVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return pyVersion{}, false
	}
	var v pyVersion
	for _, p := range m[1:] {
		if p == "" {
			break
		}
		n, _ := strconv.Atoi(p)
		v.N = append(v.N, n)
	}
	return v, true
}

func (v pyVersion) String() string {
	s := make([]string, len(v.N))
	for i, n := range v.N {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

// at returns component i, 0 when absent (PEP 440 zero padding).
func (v pyVersion) at(i int) int {
	if i < len(v.N) {
		return v.N[i]
	}
	return 0
}

func (v pyVersion) compare(o pyVersion) int {
	for i := 0; i < 3; i++ {
		if c := v.at(i) - o.at(i); c != 0 {
			if c < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

// hasPrefix reports whether v starts with the components of p (3.13.5 has prefix 3.13).
func (v pyVersion) hasPrefix(p pyVersion) bool {
	for i, n := range p.N {
		if v.at(i) != n {
			return false
		}
	}
	return true
}

// specifierMatches evaluates a PEP 440 version specifier set (">=3.9,<4", "==3.13.*", "~=3.11",
// "3.13" (bare: prefix match)) against have. Pre-release and local parts are not supported.
func specifierMatches(spec string, have pyVersion) (bool, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "*" {
		return true, nil
	}
	for _, clause := range strings.Split(spec, ",") {
		clause = strings.TrimSpace(clause)
		if clause == "" {
			continue
		}
		op := ""
		for _, o := range []string{"===", "~=", "==", "!=", ">=", "<=", ">", "<"} {
			if strings.HasPrefix(clause, o) {
				op = o
				break
			}
		}
		rest := strings.TrimSpace(strings.TrimPrefix(clause, op))
		wild := strings.HasSuffix(rest, ".*")
		rest = strings.TrimSuffix(rest, ".*")
		v, ok := parsePyVersion(rest)
		if !ok {
			return false, fmt.Errorf("%q is not a version specifier this buildpack understands", clause)
		}
		var m bool
		switch op {
		case "", "==", "===":
			if wild || op == "" {
				m = have.hasPrefix(v)
			} else {
				m = have.compare(v) == 0
			}
		case "!=":
			if wild {
				m = !have.hasPrefix(v)
			} else {
				m = have.compare(v) != 0
			}
		case ">=":
			m = have.compare(v) >= 0
		case "<=":
			m = have.compare(v) <= 0
		case ">":
			m = have.compare(v) > 0
		case "<":
			m = have.compare(v) < 0
		case "~=":
			if len(v.N) < 2 {
				return false, fmt.Errorf("%q: ~= needs at least two version components", clause)
			}
			m = have.compare(v) >= 0 && have.hasPrefix(pyVersion{N: v.N[:len(v.N)-1]})
		}
		if wild && op != "" && op != "==" && op != "!=" {
			return false, fmt.Errorf("%q: a wildcard only goes with == or !=", clause)
		}
		if !m {
			return false, nil
		}
	}
	return true, nil
}

// poetryConstraintMatches evaluates a Poetry constraint ("^3.11", "~3.11", ">=3.9,<4.0",
// "3.11.*", ">=3.9 || ^3.13") against have.
func poetryConstraintMatches(c string, have pyVersion) (bool, error) {
	for _, alt := range strings.Split(c, "||") {
		var pep []string
		for _, part := range strings.FieldsFunc(alt, func(r rune) bool { return r == ',' || r == ' ' }) {
			switch {
			case strings.HasPrefix(part, "^"):
				v, ok := parsePyVersion(part[1:])
				if !ok {
					return false, fmt.Errorf("%q is not a Poetry constraint", part)
				}
				// ^3.11 = >=3.11,<4 ; ^0.2 = >=0.2,<0.3
				upper := pyVersion{N: []int{v.at(0) + 1}}
				if v.at(0) == 0 {
					upper = pyVersion{N: []int{0, v.at(1) + 1}}
				}
				pep = append(pep, ">="+v.String(), "<"+upper.String())
			case strings.HasPrefix(part, "~") && !strings.HasPrefix(part, "~="):
				v, ok := parsePyVersion(part[1:])
				if !ok {
					return false, fmt.Errorf("%q is not a Poetry constraint", part)
				}
				// ~3.11 = >=3.11,<3.12 ; ~3 = >=3,<4
				upper := pyVersion{N: []int{v.at(0) + 1}}
				if len(v.N) >= 2 {
					upper = pyVersion{N: []int{v.at(0), v.at(1) + 1}}
				}
				pep = append(pep, ">="+v.String(), "<"+upper.String())
			default:
				if _, ok := parsePyVersion(part); ok { // bare 3.11 means ==3.11
					part = "==" + part
				} else if strings.HasSuffix(part, ".*") && !strings.ContainsAny(part[:1], "<>=!~") {
					part = "==" + part
				}
				pep = append(pep, part)
			}
		}
		ok, err := specifierMatches(strings.Join(pep, ","), have)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// versionRequest is one place that asks for a Python version.
type versionRequest struct {
	Source string // "BP_CPYTHON_VERSION", ".python-version", "pyproject.toml requires-python", ...
	Spec   string // as written
	poetry bool   // Spec is a Poetry constraint
}

func (r versionRequest) matches(have pyVersion) (bool, error) {
	if r.poetry {
		return poetryConstraintMatches(r.Spec, have)
	}
	return specifierMatches(r.Spec, have)
}

// versionRequests collects every Python version request of the app, most explicit first:
// BP_CPYTHON_VERSION, .python-version, runtime.txt, pyproject.toml, Pipfile.lock (else
// Pipfile), uv.lock.
func versionRequests(appDir, bpVersion string) ([]versionRequest, error) {
	var reqs []versionRequest
	if s := strings.TrimSpace(bpVersion); s != "" {
		reqs = append(reqs, versionRequest{Source: "BP_CPYTHON_VERSION", Spec: s})
	}
	pipfile := pipfileRequest
	if fileExists(filepath.Join(appDir, "Pipfile.lock")) {
		pipfile = pipfileLockRequest
	}
	for _, read := range []func(string) ([]versionRequest, error){pythonVersionRequest, runtimeTxtRequest, pyprojectRequests, pipfile, uvLockRequest} {
		r, err := read(appDir)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r...)
	}
	return reqs, nil
}

// pythonVersionRequest is the first version line of .python-version (pyenv's file; "cpython-"
// and "python" prefixes dropped).
func pythonVersionRequest(appDir string) ([]versionRequest, error) {
	data, err := readOptional(filepath.Join(appDir, ".python-version"))
	if err != nil || data == nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return []versionRequest{{Source: ".python-version", Spec: strings.TrimPrefix(strings.TrimPrefix(line, "cpython-"), "python")}}, nil
	}
	return nil, nil
}

// runtimeTxtRequest is runtime.txt's version ("python-3.13.5", Heroku's file).
func runtimeTxtRequest(appDir string) ([]versionRequest, error) {
	data, err := readOptional(filepath.Join(appDir, "runtime.txt"))
	if err != nil || data == nil {
		return nil, err
	}
	s := strings.TrimSpace(string(data))
	return []versionRequest{{Source: "runtime.txt", Spec: strings.TrimPrefix(strings.TrimPrefix(s, "python-"), "python")}}, nil
}

// pyprojectRequests are pyproject.toml's [project] requires-python and Poetry's python dependency.
func pyprojectRequests(appDir string) ([]versionRequest, error) {
	pp, err := readPyproject(appDir)
	if err != nil || pp == nil {
		return nil, err
	}
	var reqs []versionRequest
	if pp.Project.RequiresPython != "" {
		reqs = append(reqs, versionRequest{Source: "pyproject.toml [project] requires-python", Spec: pp.Project.RequiresPython})
	}
	if py, ok := pp.Tool.Poetry.Dependencies["python"].(string); ok && py != "" {
		reqs = append(reqs, versionRequest{Source: "pyproject.toml [tool.poetry.dependencies] python", Spec: py, poetry: true})
	}
	return reqs, nil
}

// pipenvRequires is the [requires] of a Pipfile and the _meta.requires of a Pipfile.lock.
type pipenvRequires struct {
	PythonVersion     string `json:"python_version" toml:"python_version"`
	PythonFullVersion string `json:"python_full_version" toml:"python_full_version"`
}

// requests is python_full_version, else python_version, from file ("Pipfile.lock").
func (r pipenvRequires) requests(file string) []versionRequest {
	if r.PythonFullVersion != "" {
		return []versionRequest{{Source: file + " python_full_version", Spec: r.PythonFullVersion}}
	}
	if r.PythonVersion != "" {
		return []versionRequest{{Source: file + " python_version", Spec: r.PythonVersion}}
	}
	return nil
}

func pipfileLockRequest(appDir string) ([]versionRequest, error) {
	p := filepath.Join(appDir, "Pipfile.lock")
	data, err := readOptional(p)
	if err != nil || data == nil {
		return nil, err
	}
	var lock struct {
		Meta struct {
			Requires pipenvRequires `json:"requires"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, fmt.Errorf("unable to parse %s: %w", p, err)
	}
	return lock.Meta.Requires.requests("Pipfile.lock"), nil
}

func pipfileRequest(appDir string) ([]versionRequest, error) {
	p := filepath.Join(appDir, "Pipfile")
	data, err := readOptional(p)
	if err != nil || data == nil {
		return nil, err
	}
	var pf struct {
		Requires pipenvRequires `toml:"requires"`
	}
	if _, err := toml.Decode(string(data), &pf); err != nil {
		return nil, fmt.Errorf("unable to parse %s: %w", p, err)
	}
	return pf.Requires.requests("Pipfile"), nil
}

// uvLockRequest is uv.lock's requires-python.
func uvLockRequest(appDir string) ([]versionRequest, error) {
	p := filepath.Join(appDir, "uv.lock")
	data, err := readOptional(p)
	if err != nil || data == nil {
		return nil, err
	}
	var lock struct {
		RequiresPython string `toml:"requires-python"`
	}
	if _, err := toml.Decode(string(data), &lock); err != nil {
		return nil, fmt.Errorf("unable to parse %s: %w", p, err)
	}
	if lock.RequiresPython == "" {
		return nil, nil
	}
	return []versionRequest{{Source: "uv.lock requires-python", Spec: lock.RequiresPython}}, nil
}

// checkVersion fails with a message naming the request and what the builder has when one of the
// requests is not met by have.
func checkVersion(reqs []versionRequest, have pyVersion) error {
	for _, r := range reqs {
		ok, err := r.matches(have)
		if err != nil {
			return fmt.Errorf("%s asks for Python %q: %v", r.Source, r.Spec, err)
		}
		if !ok {
			return fmt.Errorf("%s asks for Python %q, but this builder provides only CPython %s (from its build image); "+
				"change the request to match %s, or use a builder whose build image carries the version you need",
				r.Source, r.Spec, have, pyVersion{N: have.N[:2]})
		}
	}
	return nil
}

func readOptional(p string) ([]byte, error) {
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("unable to read %s: %w", p, err)
	}
	return data, nil
}

// pyproject is what the buildpack reads from pyproject.toml.
type pyproject struct {
	Project struct {
		Name                 string              `toml:"name"`
		RequiresPython       string              `toml:"requires-python"`
		Dependencies         []string            `toml:"dependencies"`
		OptionalDependencies map[string][]string `toml:"optional-dependencies"`
		Scripts              map[string]string   `toml:"scripts"`
	} `toml:"project"`
	BuildSystem *struct {
		Requires     []string `toml:"requires"`
		BuildBackend string   `toml:"build-backend"`
	} `toml:"build-system"`
	Tool struct {
		Poetry struct {
			Name         string                 `toml:"name"`
			PackageMode  *bool                  `toml:"package-mode"`
			Packages     []poetryInclude        `toml:"packages"`
			Dependencies map[string]interface{} `toml:"dependencies"`
			Scripts      map[string]interface{} `toml:"scripts"`
		} `toml:"poetry"`
	} `toml:"tool"`
}

func readPyproject(appDir string) (*pyproject, error) {
	p := filepath.Join(appDir, "pyproject.toml")
	data, err := readOptional(p)
	if err != nil || data == nil {
		return nil, err
	}
	var pp pyproject
	if _, err := toml.Decode(string(data), &pp); err != nil {
		return nil, fmt.Errorf("unable to parse %s: %w", p, err)
	}
	return &pp, nil
}
