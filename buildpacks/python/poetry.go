package python

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// poetryInclude is one entry of [tool.poetry] packages = [{include = "pkg", from = "src"}].
type poetryInclude struct {
	Include string `toml:"include"`
	From    string `toml:"from"`
}

// poetryManaged reports whether Poetry manages the project: a [tool.poetry] table or the
// poetry-core build backend.
func poetryManaged(pp *pyproject) bool {
	if pp == nil {
		return false
	}
	t := pp.Tool.Poetry
	if t.Name != "" || t.PackageMode != nil || len(t.Packages) > 0 || len(t.Dependencies) > 0 || len(t.Scripts) > 0 {
		return true
	}
	return pp.BuildSystem != nil && strings.HasPrefix(pp.BuildSystem.BuildBackend, "poetry.core")
}

// poetryRoot decides, as `poetry install` does, whether the root project of a Poetry app is
// installed: not with package-mode = false; otherwise only when the package it names exists
// (packages = [...], else a module named after the project), with a warning when it does not.
// It also needs a [build-system] for pip to build it with. notes are what to tell the user.
func poetryRoot(appDir string, pp *pyproject) (install bool, notes []string, err error) {
	t := pp.Tool.Poetry
	if t.PackageMode != nil && !*t.PackageMode {
		return false, []string{"pyproject.toml sets package-mode = false: installing the locked dependencies only, not the project itself"}, nil
	}
	found, looked, err := poetryPackageFiles(appDir, pp)
	if err != nil {
		return false, nil, err
	}
	if len(found) == 0 {
		return false, []string{fmt.Sprintf("Warning: the current project could not be installed: no file/folder found for its package "+
			"(looked for %s); installing the locked dependencies only, as `poetry install` does. If the app is not meant to be "+
			"a package, set package-mode = false under [tool.poetry] in pyproject.toml; if it is, add the package or name it "+
			"in [tool.poetry] packages", strings.Join(looked, ", "))}, nil
	}
	if pp.BuildSystem == nil {
		return false, []string{fmt.Sprintf("Warning: pyproject.toml has no [build-system], so the project (%s) is not installed: "+
			"its modules import from the app directory, but its scripts are not installed. Add [build-system] "+
			"requires = [\"poetry-core\"], build-backend = \"poetry.core.masonry.api\" to install it", strings.Join(found, ", "))}, nil
	}
	return true, []string{fmt.Sprintf("Installing the project itself (%s), as `poetry install` does", strings.Join(found, ", "))}, nil
}

var moduleNameRE = regexp.MustCompile(`[-_.]+`)

// poetryPackageFiles lists the package files the project names that exist, and the paths it
// looked at. Without packages = [...], poetry-core looks for <name>/, <name>.py, src/<name>/ and
// src/<name>.py, with <name> the normalised project name with underscores.
func poetryPackageFiles(appDir string, pp *pyproject) (found, looked []string, err error) {
	includes := pp.Tool.Poetry.Packages
	if len(includes) == 0 {
		name := pp.Project.Name
		if name == "" {
			name = pp.Tool.Poetry.Name
		}
		if name == "" {
			return nil, []string{"a package named in [project] name or [tool.poetry] name, which pyproject.toml lacks"}, nil
		}
		mod := strings.ToLower(moduleNameRE.ReplaceAllString(name, "_"))
		for _, p := range []string{mod, mod + ".py", "src/" + mod, "src/" + mod + ".py"} {
			includes = append(includes, poetryInclude{Include: p})
		}
	}
	for _, inc := range includes {
		rel := filepath.Join(inc.From, inc.Include)
		if !filepath.IsLocal(rel) {
			return nil, nil, fmt.Errorf("pyproject.toml: [tool.poetry] packages names %q, which is outside the app directory; name a path inside it", rel)
		}
		looked = append(looked, rel)
		matches, err := filepath.Glob(filepath.Join(appDir, rel))
		if err != nil {
			return nil, nil, fmt.Errorf("pyproject.toml: [tool.poetry] packages: bad pattern %q: %w", rel, err)
		}
		for _, m := range matches {
			r, _ := filepath.Rel(appDir, m)
			found = append(found, r)
		}
	}
	return found, looked, nil
}
