package python

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"

	"github.com/BurntSushi/toml"
)

// fixture is a file of the shared Python test apps (integration/testdata/python), a fuzz seed.
func fixture(f *testing.F, app, name string) string {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "integration", "testdata", "python", app, name))
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}

// checkSet fails t unless the requirement set a lock parser returned is
// what pip can be handed: err names the file; the lines are single lines,
// hashed all or none (pip refuses a mix), one for each distribution named
// in Direct, which holds PEP 503 normalised names.
func checkSet(t *testing.T, path string, rs requirementSet, err error) {
	t.Helper()
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("error %q does not name %s", err, path)
		}
		return
	}
	hashed := 0
	for _, l := range rs.Lines {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %q holds a line break: pip would read two requirements", l)
		}
		if strings.Contains(l, " --hash=") {
			hashed++
		}
	}
	if hashed != 0 && hashed != len(rs.Lines) {
		t.Fatalf("%d of %d lines hashed:\n%s", hashed, len(rs.Lines), strings.Join(rs.Lines, "\n"))
	}
	if len(rs.Direct) != len(rs.Lines) {
		t.Fatalf("%d names for %d lines: %q", len(rs.Direct), len(rs.Lines), rs.Direct)
	}
	for _, n := range rs.Direct {
		if n != normalize(n) {
			t.Fatalf("name %q is not normalised", n)
		}
	}
}

// FuzzRequirementsTxt: requirements.txt (with -r/-c includes of base.txt,
// extras, markers, hashes, local paths) never panics; an error names the
// file it is about; an accepted file is handed to pip as itself, keyed by
// its content and its includes', with normalised names.
// Seeds: testdata/fuzz/FuzzRequirementsTxt.
func FuzzRequirementsTxt(f *testing.F) {
	for _, s := range [][2]string{
		{"flask[async]==3.0 ; python_version >= '3.9'  # web\n-r base.txt\n", "gunicorn>=22 --hash=sha256:00\n-e ./lib\n"},
		{"-rbase.txt\n--requirement=base.txt\n-c base.txt\nDjango_Rest.Framework~=3.15\n", "-r requirements.txt\n"},
		{"-r missing.txt\n", ""}, {"-r .\n", ""}, {"./pkg\nfile:///x\nname @ file:///y\n--index-url https://example.com/simple\n", ""},
		{"flask " + strings.Repeat("x", 70_000) + "\n", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, main, base string) {
		dir := t.TempDir()
		testenv.WriteFiles(t, dir, map[string]string{"requirements.txt": main, "base.txt": base})
		rs, err := fromRequirementsTxt(dir, "requirements.txt")
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %q names no file of the app", err)
			}
			return
		}
		if rs.File != filepath.Join(dir, "requirements.txt") || !bytes.Contains(rs.KeyData, []byte(main)) || len(rs.Lines) != 0 {
			t.Fatalf("requirements.txt gave %+v", rs)
		}
		for _, n := range rs.Direct {
			if n == "" || n != normalize(n) {
				t.Fatalf("name %q is not normalised", n)
			}
		}
	})
}

// FuzzPipfileLock: see checkSet. Seeds: the pipenv test app's lock and
// testdata/fuzz/FuzzPipfileLock.
func FuzzPipfileLock(f *testing.F) {
	f.Add([]byte(fixture(f, "pipenv", "Pipfile.lock")))
	for _, s := range []string{`{"default":{"a":{"version":"==1","hashes":["sha256:00"]},"b":{"git":"https://x/b.git","ref":"v1"}}}`,
		`{"default":{"self":{"path":".","editable":true},"c":{"file":"./c.whl","markers":"os_name == 'nt'"}}}`, `{"default":{"d":{}}}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "/app/Pipfile.lock"
		rs, err := fromPipfileLock(path, data, nil)
		checkSet(t, path, rs, err)
	})
}

// FuzzPipfile: see checkSet. Seeds: testdata/fuzz/FuzzPipfile.
func FuzzPipfile(f *testing.F) {
	for _, s := range []string{"[packages]\nflask = \"*\"\nrequests = {version = \">=2\", extras = [\"socks\"], markers = \"os_name != 'nt'\"}\nlib = {git = \"https://x/lib.git\", ref = \"main\"}\n",
		"[packages]\nbad = 1\n", "[dev-packages]\npytest = \"*\"\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		const path = "/app/Pipfile"
		rs, err := fromPipfile(path, []byte(data), nil)
		checkSet(t, path, rs, err)
	})
}

// FuzzPoetryLock: see checkSet; pyproject.toml (when it parses) chooses
// the main dependencies of a lock without groups. Seeds: the poetry test
// app and testdata/fuzz/FuzzPoetryLock.
func FuzzPoetryLock(f *testing.F) {
	f.Add(fixture(f, "poetry", "poetry.lock"), fixture(f, "poetry", "pyproject.toml"))
	f.Add("[[package]]\nname = \"a\"\nversion = \"1\"\n[package.dependencies]\nb = \">=1\"\n[[package]]\nname = \"b\"\nversion = \"2\"\n[package.dependencies]\na = \"*\"\n",
		"[tool.poetry.dependencies]\npython = \"^3.12\"\na = \"*\"\n")
	f.Add("[[package]]\nname = \"g\"\nversion = \"1\"\ngroups = [\"main\"]\n[package.source]\ntype = \"git\"\nurl = \"https://x/g.git\"\nreference = \"v1\"\n", "")
	f.Add("[[package]]\nname = \"s\"\nversion = \"1\"\ncategory = \"main\"\n[package.source]\ntype = \"svn\"\n", "")
	f.Fuzz(func(t *testing.T, lock, project string) {
		const path = "/app/poetry.lock"
		var pp *pyproject
		if _, err := toml.Decode(project, &pp); err != nil {
			pp = nil
		}
		rs, err := fromPoetryLock(path, []byte(lock), pp)
		checkSet(t, path, rs, err)
	})
}

// FuzzUVLock: see checkSet. Seeds: the uv test app's lock and
// testdata/fuzz/FuzzUVLock (a package whose extra needs itself).
func FuzzUVLock(f *testing.F) {
	f.Add(fixture(f, "uv", "uv.lock"))
	f.Add("[[package]]\nname = \"app\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"x\", extra = [\"all\"] }]\n" +
		"[[package]]\nname = \"x\"\nversion = \"1\"\n[package.optional-dependencies]\nall = [{ name = \"x\", extra = [\"all\"] }]\n")
	f.Add("[[package]]\nname = \"app\"\nsource = { editable = \".\" }\ndependencies = [{ name = \"l\", marker = \"os_name == 'posix'\" }]\n" +
		"[[package]]\nname = \"l\"\nsource = { directory = \"lib\" }\n")
	f.Fuzz(func(t *testing.T, data string) {
		const path = "/app/uv.lock"
		rs, err := fromUVLock(path, []byte(data), nil)
		checkSet(t, path, rs, err)
	})
}

func TestFromRequirementsTxt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		keyed   string // a file whose content is in the key
		direct  []string
		noReuse bool
		wantErr string
	}{
		{name: "includes in every form", files: map[string]string{"requirements.txt": "--requirement=a.txt\n-rb.txt\n--constraint c.txt\nFlask_Login[x]>=1 ; os_name == 'posix'\n",
			"a.txt": "alpha\n", "b.txt": "-e ./lib\n", "c.txt": "gamma<2\n"}, keyed: "gamma<2", direct: []string{"alpha", "gamma", "flask-login"}, noReuse: true},
		{name: "a line longer than a scanner's buffer", files: map[string]string{"requirements.txt": "flask " + strings.Repeat("x", 70_000) + "\n"}, direct: []string{"flask"}},
		{name: "a missing include names the line", files: map[string]string{"requirements.txt": "-r missing.txt\n"},
			wantErr: "missing.txt (%APP%/requirements.txt: -r missing.txt): "},
		{name: "an include without a file", files: map[string]string{"requirements.txt": "flask\n-r\n"}, wantErr: "%APP%/requirements.txt: \"-r\" names no file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, tc.files)
			rs, err := fromRequirementsTxt(dir, "requirements.txt")
			if tc.wantErr != "" {
				if want := strings.ReplaceAll(tc.wantErr, "%APP%", dir); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(rs.Direct, ",") != strings.Join(tc.direct, ",") || rs.NoReuse != tc.noReuse || !bytes.Contains(rs.KeyData, []byte(tc.keyed)) {
				t.Errorf("direct %q noReuse %v key has %q: %v", rs.Direct, rs.NoReuse, tc.keyed, bytes.Contains(rs.KeyData, []byte(tc.keyed)))
			}
		})
	}
}

// TestLockEdgeCases: lock files that once broke the parsers.
func TestLockEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name    string
		parse   func(string, []byte, *pyproject) (requirementSet, error)
		content string
		want    []string
		wantErr string
	}{
		{name: "uv: an extra that needs itself", parse: fromUVLock,
			content: "[[package]]\nname = \"app\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"x\", extra = [\"all\"] }]\n" +
				"[[package]]\nname = \"x\"\nversion = \"1\"\n[package.optional-dependencies]\nall = [{ name = \"x\", extra = [\"a\"] }, { name = \"y\" }]\n" +
				"a = [{ name = \"x\", extra = [\"all\"] }]\n[[package]]\nname = \"y\"\nversion = \"2\"\n",
			want: []string{"x==1", "y==2"}},
		{name: "Pipfile.lock: a line break in a version", parse: fromPipfileLock,
			content: `{"default":{"a":{"version":"==1\n--index-url=https://example.com/simple"}}}`, wantErr: "/app/lock: \"a==1\\n--index-url"},
		{name: "poetry.lock: a line break in a name", parse: fromPoetryLock,
			content: "[[package]]\nname = \"a\\n-e /\"\nversion = \"1\"\ngroups = [\"main\"]\n", wantErr: "holds a line break"},
		{name: "Pipfile: a line break in a marker", parse: fromPipfile,
			content: "[packages]\na = {version = \"*\", markers = \"os_name == 'nt'\\n-r /etc/passwd\"}\n", wantErr: "holds a line break"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := tc.parse("/app/lock", []byte(tc.content), nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || strings.Join(rs.Lines, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("lines %q, %v; want %q", rs.Lines, err, tc.want)
			}
		})
	}
}
