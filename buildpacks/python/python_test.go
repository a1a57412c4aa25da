package python

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"

	"github.com/distill-build/distill/internal/command"
	"github.com/distill-build/distill/internal/testenv"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		pass  bool
	}{
		{"requirements.txt", map[string]string{"requirements.txt": "flask\n"}, true},
		{"pyproject.toml", map[string]string{"pyproject.toml": "[project]\nname='x'\n"}, true},
		{"Procfile running python in a subdirectory", map[string]string{"Procfile": "web: cd srv && python server.py\n", "srv/server.py": ""}, true},
		{"Procfile running node", map[string]string{"Procfile": "web: node server.js\n", "srv/server.py": ""}, false},
		{"poetry.lock", map[string]string{"poetry.lock": ""}, true},
		{"uv.lock", map[string]string{"uv.lock": ""}, true},
		{".python-version", map[string]string{".python-version": "3.13\n"}, true},
		{"main.py", map[string]string{"main.py": ""}, true},
		{"Procfile and a script", map[string]string{"Procfile": "web: python server.py\n", "server.py": ""}, true},
		{"Procfile alone", map[string]string{"Procfile": "web: ./run\n"}, false},
		{"a Go app", map[string]string{"go.mod": "module m\n", "tools/gen.py": ""}, false},
		{"requirements.txt is a directory", map[string]string{"requirements.txt/x": ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, tt.files)
			var buf bytes.Buffer
			res, err := Detector{Logger: log.NewPaketoLogger(&buf)}.Detect(libcnb.DetectContext{ApplicationPath: dir})
			if err != nil {
				t.Fatal(err)
			}
			if res.Pass != tt.pass {
				t.Fatalf("pass = %v, want %v (%s)", res.Pass, tt.pass, buf.String())
			}
		})
	}
}

func TestSpecifiers(t *testing.T) {
	have, _ := parsePyVersion("3.13.5")
	tests := []struct {
		spec   string
		poetry bool
		want   bool
		err    bool
	}{
		{"3.13", false, true, false}, {"3.13.5", false, true, false}, {"3.12", false, false, false},
		{">=3.11", false, true, false}, {">=3.9,<3.13", false, false, false}, {"==3.13.*", false, true, false},
		{"~=3.11", false, true, false}, {"~=3.11.0", false, false, false}, {"!=3.13.5", false, false, false},
		{"<4", false, true, false}, {"3", false, true, false}, {"latest", false, false, true},
		{"^3.11", true, true, false}, {"~3.11", true, false, false}, {"~3.13", true, true, false},
		{">=3.9,<3.12 || ^3.13", true, true, false}, {"3.13.*", true, true, false}, {"3.11", true, false, false},
	}
	for _, tt := range tests {
		r := versionRequest{Source: "test", Spec: tt.spec, poetry: tt.poetry}
		got, err := r.matches(have)
		if (err != nil) != tt.err || (err == nil && got != tt.want) {
			t.Errorf("%q (poetry %v) = %v, %v; want %v, err %v", tt.spec, tt.poetry, got, err, tt.want, tt.err)
		}
	}
}

func TestVersionRequests(t *testing.T) {
	have, _ := parsePyVersion("3.13.5")
	tests := []struct {
		name    string
		files   map[string]string
		env     string
		wantErr string
	}{
		{"none", nil, "", ""},
		{".python-version ok", map[string]string{".python-version": "# pyenv\n3.13\n"}, "", ""},
		{".python-version too old", map[string]string{".python-version": "3.11.9\n"}, "", `.python-version asks for Python "3.11.9", but this builder provides only CPython 3.13.5`},
		{"runtime.txt", map[string]string{"runtime.txt": "python-3.12.1\n"}, "", `runtime.txt asks for Python "3.12.1"`},
		{"BP_CPYTHON_VERSION wins first", map[string]string{".python-version": "3.13\n"}, "3.14", `BP_CPYTHON_VERSION asks for Python "3.14"`},
		{"requires-python", map[string]string{"pyproject.toml": "[project]\nrequires-python = \">=3.14\"\n"}, "", "requires-python"},
		{"poetry python", map[string]string{"pyproject.toml": "[tool.poetry.dependencies]\npython = \"~3.10\"\n"}, "", "[tool.poetry.dependencies] python"},
		{"Pipfile.lock", map[string]string{"Pipfile.lock": `{"_meta": {"requires": {"python_version": "3.12"}}, "default": {}}`}, "", "Pipfile.lock python_version"},
		{"uv.lock", map[string]string{"uv.lock": "version = 1\nrequires-python = \">=3.11\"\n"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, tt.files)
			reqs, err := versionRequests(dir, tt.env)
			if err == nil {
				err = checkVersion(reqs, have)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestResolveRequirementsFixtures(t *testing.T) {
	root := filepath.Join("..", "..", "integration", "testdata", "python")
	tests := []struct {
		app, source   string
		locked, proj  bool
		contains      []string
		notContaining string
	}{
		{"flask-procfile", "requirements.txt", false, false, nil, ""},
		{"pipenv", "Pipfile.lock", true, false, []string{"flask==3.1.1 ; python_version >= '3.9' --hash=sha256:", "gunicorn==23.0.0"}, "pytest"},
		{"poetry", "poetry.lock", true, false, []string{"flask==3.1.1 --hash=sha256:", "packaging==25.0"}, "pytest"},
		{"uv", "uv.lock", true, false, []string{"starlette==0.46.1 --hash=sha256:", "typing-extensions==4.13.2 ; (python_full_version < '3.13') or (python_full_version < '3.11') --hash"}, "pytest"},
		{"pyproject", "pyproject.toml [project] dependencies", false, true, []string{"flask>=3"}, ""},
		{"nodeps-main", "none", false, false, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			rs, err := resolveRequirements(filepath.Join(root, tt.app))
			if err != nil {
				t.Fatal(err)
			}
			if rs.Source != tt.source || rs.Locked != tt.locked || rs.InstallProject != tt.proj {
				t.Errorf("got source %q locked %v project %v", rs.Source, rs.Locked, rs.InstallProject)
			}
			all := strings.Join(rs.Lines, "\n")
			for _, c := range tt.contains {
				if !strings.Contains(all, c) {
					t.Errorf("lines lack %q:\n%s", c, all)
				}
			}
			if tt.notContaining != "" && strings.Contains(all, tt.notContaining) {
				t.Errorf("lines hold %q (a dev dependency):\n%s", tt.notContaining, all)
			}
		})
	}
}

func TestRequirementsTxtIncludesAndLocalPaths(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{"requirements.txt": "-r base.txt\nflask  # web\n", "base.txt": "-e ./lib\n"})
	rs, err := resolveRequirements(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rs.NoReuse || !bytes.Contains(rs.KeyData, []byte("-e ./lib")) || !reflect.DeepEqual(rs.Direct, []string{"flask"}) {
		t.Errorf("rs = %+v", rs)
	}
}

// TestProcfile: plain commands run directly, the rest through the runner with a JSON plan;
// what needs a shell fails the build with the grammar's message, naming the file and line.
func TestProcfile(t *testing.T) {
	runner := "/v/bin/python -I -S /x.py "
	tests := []struct {
		procfile string
		want     []string
		err      string
	}{
		{"web: gunicorn --bind :$PORT main:app\n", []string{runner + `{"commands":[{"args":[{"parts":[{"text":"gunicorn"}]},{"parts":[{"text":"--bind"}]},{"parts":[{"text":":"},{"var":"PORT"}]},{"parts":[{"text":"main:app"}]}]}]}`}, ""},
		{"# comment\nweb: python server.py\nworker: celery -A 'tasks app' worker\n", []string{"/v/bin/python server.py", "celery -A tasks app worker"}, ""},
		{"web: python migrate.py; python server.py\n", []string{runner + `{"commands":[{"args":[{"parts":[{"text":"python"}]},{"parts":[{"text":"migrate.py"}]}]},{"op":";","args":[{"parts":[{"text":"python"}]},{"parts":[{"text":"server.py"}]}]}]}`}, ""},
		{"web: echo 'a && b'\n", []string{runner + `{"commands":[{"args":[{"parts":[{"text":"echo"}]},{"parts":[{"text":"a \u0026\u0026 b"}],"quoted":true}]}]}`}, ""},
		{"web: python a.py | tee log\n", nil, `Procfile:1: the web process "python a.py | tee log" cannot run without a shell (the run image has none): pipes (|) need a shell`},
		{"web: run > out\n", nil, "redirections (< >) need a shell"},
		{"web: rm *.pyc && serve\n", nil, "glob patterns (*) need a shell"},
		{"web x\n", nil, "is not a `<type>: <command>` line"},
		{"web: a\nweb: b\n", nil, "defined twice"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		testenv.WriteFiles(t, dir, map[string]string{"Procfile": tt.procfile})
		ps, err := decideProcesses(dir, processEnv{Python: "/v/bin/python", ExecScript: "/x.py"}, nil)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.procfile, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.procfile, err)
			continue
		}
		var got []string
		for _, p := range ps {
			got = append(got, strings.Join(p.Command, " "))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.procfile, got, tt.want)
		}
	}
}

func TestDecideProcesses(t *testing.T) {
	flask := "from flask import Flask\napp = Flask(__name__)\n"
	asgi := "from starlette.applications import Starlette\napp = Starlette()\n"
	tests := []struct {
		name      string
		files     map[string]string
		installed []string
		scripts   []string
		want      string
		err       string
	}{
		{"wsgi + gunicorn", map[string]string{"main.py": flask}, []string{"gunicorn"}, nil, "gunicorn --bind :$PORT main:app", ""},
		{"wsgi in app.py + gunicorn", map[string]string{"app.py": flask}, []string{"gunicorn", "uvicorn"}, nil, "gunicorn --bind :$PORT app:app", ""},
		{"asgi + uvicorn", map[string]string{"main.py": asgi}, []string{"gunicorn", "uvicorn"}, nil, "uvicorn --host 0.0.0.0 --port $PORT main:app", ""},
		{"wsgi without gunicorn runs main.py", map[string]string{"main.py": flask}, nil, nil, "/v/bin/python main.py", ""},
		{"single script", map[string]string{"pkg/x.py": ""}, []string{"serve"}, []string{"serve"}, "/bin/serve", ""},
		{"two scripts", map[string]string{"pkg/x.py": ""}, []string{"a", "b"}, []string{"a", "b"}, "", "defines 2 scripts"},
		{"nothing", map[string]string{"lib.py": ""}, nil, nil, "", "no process to run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, tt.files)
			bin := filepath.Join(t.TempDir(), "bin")
			for _, i := range tt.installed {
				testenv.WriteFiles(t, bin, map[string]string{i: "#!/bin/false\n"})
			}
			ps, err := decideProcesses(dir, processEnv{Python: "/v/bin/python", ExecScript: "/x.py", BinDirs: []string{bin}}, tt.scripts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ps[0].shown()
			if !strings.Contains(got, tt.want) || ps[0].Type != "web" {
				t.Errorf("got %s %q, want ...%q", ps[0].Type, got, tt.want)
			}
		})
	}
}

// TestExecScript runs the runner with the host's python3 (any 3.x) on plans internal/command
// parsed: expansion as command.Word.Expand, PORT defaults to 8080, lists and builtins, python
// means the running interpreter, a missing program exits 127.
func TestExecScript(t *testing.T) {
	testenv.Slow(t, "starts python3 for every command line (seconds)")
	py := testenv.NeedCommand(t, "python3", "the runner script is tested with the host's python3")
	dir := t.TempDir()
	script := filepath.Join(dir, "distill_exec.py")
	if err := os.WriteFile(script, []byte(execScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	printArgs := `python -c 'import sys, os; print(sys.argv[1:], os.environ.get("GREETING"), os.path.basename(os.getcwd()))'`
	tests := []struct {
		cmd  string
		env  []string
		want string
		code int
	}{
		{printArgs + ` --bind :$PORT`, nil, "['--bind', ':8080'] None " + filepath.Base(dir), 0},
		{printArgs + ` --bind :$PORT`, []string{"PORT=9000"}, "['--bind', ':9000'] None " + filepath.Base(dir), 0},
		{printArgs + ` "${NAME:-anon} x" '$PORT' ${MISSING-d} $MISSING "$MISSING"`, []string{"NAME="}, "['anon x', '$PORT', 'd', ''] None " + filepath.Base(dir), 0},
		{"GREETING=hi " + printArgs + ` a\ b`, nil, "['a b'] hi " + filepath.Base(dir), 0},
		{"echo one; echo -n two && echo ' three' || echo never", nil, "one\ntwo three", 0},
		{"false || echo recovered; false && echo never", nil, "recovered", 1},
		{"cd sub && export GREETING=yo && exec " + printArgs, nil, "[] yo sub", 0},
		{"G=1; echo $G; exit 3", nil, "1", 3},
		{"no-such-program-xyz; echo after", nil, "distill exec: no-such-program-xyz: command not found\nafter", 0},
		{"no-such-program-xyz", nil, "distill exec: no-such-program-xyz: command not found", 127},
	}
	for _, tt := range tests {
		s, err := command.Parse(tt.cmd)
		if err != nil {
			t.Fatalf("%s: %v", tt.cmd, err)
		}
		plan, _ := json.Marshal(s)
		cmd := exec.Command(py, "-I", "-S", script, string(plan))
		cmd.Dir = dir
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tt.env...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(out)) != tt.want || code != tt.code {
			t.Errorf("%s: exit %d %q, want %d %q", tt.cmd, code, out, tt.code, tt.want)
		}
	}
}

func TestHashMismatchHint(t *testing.T) {
	mismatch := errors.New("pip install failed (exit status 1):\nERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.")
	other := errors.New("pip install failed (exit status 1):\nERROR: No matching distribution found for flask==9")
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"mismatch names the lock file and the fix", mismatch, []string{"DO NOT MATCH", "poetry.lock pins hashes", "re-lock"}},
		{"other errors pass through", other, []string{"No matching distribution"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hashMismatchHint(tt.err, "poetry.lock")
			if !errors.Is(got, tt.err) {
				t.Errorf("the hint does not wrap pip's error: %v", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			if tt.err == other && got != other {
				t.Errorf("a non-hash error changed: %v", got)
			}
		})
	}
}
