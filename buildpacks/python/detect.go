package python

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

// PlanEntryPython is the build plan entry this buildpack provides and requires.
const PlanEntryPython = "python"

// projectFiles make an app a Python app on their own.
var projectFiles = []string{
	"requirements.txt", "pyproject.toml", "setup.py", "Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock",
	".python-version", "runtime.txt",
}

// entryScripts are Python entry points that make an app a Python app without any project file.
var entryScripts = []string{"main.py", "app.py"}

// procfilePythonRE matches a Procfile command that runs python or a *.py file.
var procfilePythonRE = regexp.MustCompile(`(?m)^[A-Za-z0-9_-]+:.*(\bpython[0-9.]*\s|\.py\b)`)

// Detector passes for a Python project file at the app root, an entry script (main.py, app.py),
// or a Procfile next to a *.py file.
type Detector struct {
	Logger log.Logger
}

func (d Detector) Detect(ctx libcnb.DetectContext) (libcnb.DetectResult, error) {
	logger := d.Logger
	if logger == nil {
		logger = log.NewPaketoLogger(os.Stdout)
	}
	reason, err := detectReason(ctx.ApplicationPath)
	if err != nil {
		return libcnb.DetectResult{}, err
	}
	if reason == "" {
		logger.Bodyf("SKIPPED: no %s, %s, nor a Procfile with a *.py file in %s",
			strings.Join(projectFiles, ", "), strings.Join(entryScripts, ", "), ctx.ApplicationPath)
		return libcnb.DetectResult{Pass: false}, nil
	}
	logger.Bodyf("PASSED: %s", reason)
	return libcnb.DetectResult{
		Pass: true,
		Plans: []libcnb.BuildPlan{{
			Provides: []libcnb.BuildPlanProvide{{Name: PlanEntryPython}},
			Requires: []libcnb.BuildPlanRequire{{Name: PlanEntryPython, Metadata: map[string]interface{}{"launch": true}}},
		}},
	}, nil
}

// detectReason names the file that makes appDir a Python app, or "" when none does.
func detectReason(appDir string) (string, error) {
	for _, f := range append(append([]string{}, projectFiles...), entryScripts...) {
		ok, err := isFile(filepath.Join(appDir, f))
		if err != nil {
			return "", err
		}
		if ok {
			return f, nil
		}
	}
	if ok, err := isFile(filepath.Join(appDir, "Procfile")); err != nil || !ok {
		return "", err
	}
	py, err := filepath.Glob(filepath.Join(appDir, "*.py"))
	if err != nil {
		return "", err
	}
	if len(py) > 0 {
		return "Procfile and " + filepath.Base(py[0]), nil
	}
	data, err := readOptional(filepath.Join(appDir, "Procfile"))
	if err != nil {
		return "", err
	}
	if procfilePythonRE.Match(data) {
		return "a Procfile that runs python", nil
	}
	return "", nil
}

func isFile(p string) (bool, error) {
	st, err := os.Stat(p)
	switch {
	case os.IsNotExist(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("unable to stat %s: %w", p, err)
	}
	return st.Mode().IsRegular(), nil
}

func newLogger(w io.Writer) log.Logger { return log.NewPaketoLogger(w) }
