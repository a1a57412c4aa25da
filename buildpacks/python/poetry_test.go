package python

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// poetryLock is a lock file (2.1 shape) with one main and one dev package.
const poetryLock = `[[package]]
name = "flask"
version = "3.1.1"
optional = false
groups = ["main"]
files = [{file = "flask-3.1.1-py3-none-any.whl", hash = "sha256:aa"}]

[[package]]
name = "pytest"
version = "8.3.0"
optional = false
groups = ["dev"]
files = [{file = "pytest-8.3.0-py3-none-any.whl", hash = "sha256:bb"}]
`

// poetryLock1 is a Poetry 1.x lock (category instead of groups).
const poetryLock1 = `[[package]]
name = "flask"
version = "3.1.1"
category = "main"
optional = false
python-versions = ">=3.9"

[[package]]
name = "pytest"
version = "8.3.0"
category = "dev"
optional = false
python-versions = ">=3.8"
`

const poetryBackend = "\n[build-system]\nrequires = [\"poetry-core>=1.0.0\"]\nbuild-backend = \"poetry.core.masonry.api\"\n"

// poetry1 is a Poetry 1.x pyproject.toml with extra lines in [tool.poetry].
func poetry1(extra string) string {
	return "[tool.poetry]\nname = \"shop-api\"\nversion = \"0.1.0\"\n" + extra +
		"\n[tool.poetry.dependencies]\npython = \"^3.11\"\nflask = \"^3.1\"\n"
}

// TestPoetryRootProject: the locked main dependencies are always installed; the root project
// only when it is a package, as `poetry install` decides.
func TestPoetryRootProject(t *testing.T) {
	v1 := poetry1("")
	v2 := "[project]\nname = \"shop-api\"\nversion = \"0.1.0\"\ndependencies = [\"flask (>=3.1,<4.0)\"]\n"
	tests := []struct {
		name    string
		files   map[string]string
		install bool
		note    string // a note that must be given
	}{
		{"1.x no package dir", map[string]string{"pyproject.toml": v1 + poetryBackend, "poetry.lock": poetryLock, "server.py": ""}, false, "could not be installed"},
		{"1.x lock with categories", map[string]string{"pyproject.toml": v1 + poetryBackend, "poetry.lock": poetryLock1, "server.py": ""}, false, "shop_api"},
		{"1.x package dir", map[string]string{"pyproject.toml": v1 + poetryBackend, "poetry.lock": poetryLock, "shop_api/__init__.py": ""}, true, "shop_api"},
		{"1.x module file", map[string]string{"pyproject.toml": v1 + poetryBackend, "poetry.lock": poetryLock, "shop_api.py": ""}, true, "shop_api.py"},
		{"src layout", map[string]string{"pyproject.toml": v1 + poetryBackend, "poetry.lock": poetryLock, "src/shop_api/__init__.py": ""}, true, "src/shop_api"},
		{"package-mode false with backend", map[string]string{"pyproject.toml": "[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\nflask = \"^3.1\"\n" + poetryBackend, "poetry.lock": poetryLock, "shop_api/__init__.py": ""}, false, "package-mode = false"},
		{"package-mode false, no build-system", map[string]string{"pyproject.toml": "[tool.poetry]\npackage-mode = false\n", "poetry.lock": poetryLock}, false, "package-mode = false"},
		{"2.x [project] no package", map[string]string{"pyproject.toml": v2 + poetryBackend, "poetry.lock": poetryLock, "app.py": ""}, false, "could not be installed"},
		{"2.x [project] package", map[string]string{"pyproject.toml": v2 + poetryBackend, "poetry.lock": poetryLock, "shop_api/__init__.py": ""}, true, "Installing the project itself"},
		{"2.x [project] no lock, no package", map[string]string{"pyproject.toml": v2 + poetryBackend, "app.py": ""}, false, "could not be installed"},
		{"packages = [...] present", map[string]string{"pyproject.toml": poetry1("packages = [{include = \"api\", from = \"src\"}]\n") + poetryBackend, "poetry.lock": poetryLock, "src/api/__init__.py": ""}, true, "src/api"},
		{"packages = [...] missing", map[string]string{"pyproject.toml": poetry1("packages = [{include = \"api\"}]\n") + poetryBackend, "poetry.lock": poetryLock, "shop_api/__init__.py": ""}, false, "looked for api"},
		{"packages glob", map[string]string{"pyproject.toml": poetry1("packages = [{include = \"api*\"}]\n") + poetryBackend, "poetry.lock": poetryLock, "api_v1/__init__.py": ""}, true, "api_v1"},
		{"package but no build-system", map[string]string{"pyproject.toml": v1, "poetry.lock": poetryLock, "shop_api/__init__.py": ""}, false, "no [build-system]"},
		{"no name at all", map[string]string{"pyproject.toml": "[tool.poetry.dependencies]\nflask = \"^3.1\"\n" + poetryBackend, "poetry.lock": poetryLock}, false, "lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, tt.files)
			rs, err := resolveRequirements(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rs.InstallProject != tt.install {
				t.Errorf("InstallProject = %v, want %v (notes %q)", rs.InstallProject, tt.install, rs.Notes)
			}
			if notes := strings.Join(rs.Notes, "\n"); !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q lack %q", notes, tt.note)
			}
			if _, lock := tt.files["poetry.lock"]; lock {
				all := strings.Join(rs.Lines, "\n")
				if !strings.Contains(all, "flask==3.1.1") || strings.Contains(all, "pytest") {
					t.Errorf("lines = %q, want flask pinned and no dev dependency", all)
				}
			}
		})
	}
}

// TestPoetryPackagesOutside: a packages entry outside the app is refused, naming the file.
func TestPoetryPackagesOutside(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{"pyproject.toml": "[tool.poetry]\nname = \"x\"\npackages = [{include = \"../x\"}]\n" + poetryBackend})
	_, err := resolveRequirements(dir)
	if err == nil || !strings.Contains(err.Error(), "pyproject.toml") || !strings.Contains(err.Error(), "outside") {
		t.Errorf("err = %v", err)
	}
}

// TestPoetryCaseApp: the shared case (a Poetry app with no package dir) installs its lock only.
func TestPoetryCaseApp(t *testing.T) {
	app, err := filepath.Abs("../../../shared/cases/py-poetry-nonpackage/app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(app, "poetry.lock")); err != nil {
		testenv.Unavailable(t, "the shared case %s is not beside the checkout: %v", app, err)
	}
	rs, err := resolveRequirements(app)
	if err != nil {
		t.Fatal(err)
	}
	if rs.InstallProject || !rs.Locked || len(rs.Lines) != 9 {
		t.Errorf("InstallProject %v Locked %v lines %d: %q", rs.InstallProject, rs.Locked, len(rs.Lines), rs.Lines)
	}
}
