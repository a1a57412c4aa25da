package python

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/distill-build/distill/internal/command"
	"github.com/distill-build/distill/internal/procfile"
)

// execScript is the process runner: the run image has no shell, so a command that needs more
// than one plain program (see internal/command) is parsed at build time into a JSON plan and
// runs as `python -I -S distill_exec.py '<plan>'`. It expands words as command.Word.Expand does,
// sets PORT=8080 when it is unset, runs the builtins and the commands in order (&&, ||, ;), and
// execs the last one (or any after `exec`) so the server gets signals directly.
// `python`, `python3` and `python3.X` run the interpreter that runs the runner (the venv's).
const execScript = `"""distill exec: run a parsed process command without a shell (see the distill/python buildpack)."""
import json
import os
import signal
import sys

_child = [0]


def expand(word, env):
    """The word's value and whether it is an argument (command.Word.Expand)."""
    out = []
    for p in word.get("parts", []):
        name = p.get("var")
        if not name:
            out.append(p.get("text", ""))
            continue
        val = env.get(name)
        d = p.get("default")
        if d is not None and (val is None or (p.get("ifEmpty") and val == "")):
            val = expand(d, env)[0]
        out.append(val or "")
    s = "".join(out)
    return s, bool(s) or bool(word.get("quoted"))


def program(argv):
    if argv[0] in ("python", "python3", "python%d.%d" % sys.version_info[:2]):
        return [sys.executable] + argv[1:]
    return argv


def fail(argv, e):
    if isinstance(e, FileNotFoundError):
        sys.stderr.write("distill exec: %s: command not found\n" % argv[0])
        return 127
    sys.stderr.write("distill exec: %s: %s\n" % (argv[0], e.strerror))
    return 126


def spawn(argv, env, cwd):
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        except OSError as e:
            os._exit(fail(argv, e))
    _child[0] = pid
    _, st = os.waitpid(pid, 0)
    _child[0] = 0
    code = os.waitstatus_to_exitcode(st)
    return code if code >= 0 else 128 - code


def forward(sig, _frame):
    if _child[0]:
        os.kill(_child[0], sig)
    else:
        sys.exit(128 + sig)


def builtin(argv, env, state):
    """Runs a builtin; False when argv is not one."""
    name, args = argv[0], argv[1:]
    if name == "echo":
        nl = "\n"
        if args[:1] == ["-n"]:
            nl, args = "", args[1:]
        sys.stdout.write(" ".join(args) + nl)
        sys.stdout.flush()
        state["status"] = 0
    elif name in ("true", ":"):
        state["status"] = 0
    elif name == "false":
        state["status"] = 1
    elif name == "cd":
        target = os.path.join(state["cwd"], args[0] if args else env.get("HOME", "/"))
        if os.path.isdir(target):
            state["cwd"], state["status"] = os.path.normpath(target), 0
        else:
            sys.stderr.write("cd: %s: not a directory\n" % target)
            state["status"] = 1
    elif name == "export":
        for a in args:
            k, eq, v = a.partition("=")
            if eq and k:
                state["env"][k] = v
        state["status"] = 0
    elif name == "exit":
        sys.exit(int(args[0]) & 255 if args else state["status"])
    else:
        return False
    return True


def run(plan):
    state = {"env": dict(os.environ), "cwd": os.getcwd(), "status": 0}
    state["env"].setdefault("PORT", "8080")
    cmds = plan["commands"]
    for i, c in enumerate(cmds):
        op, st = c.get("op", ""), state["status"]
        if (op == "&&" and st != 0) or (op == "||" and st == 0):
            continue
        env = state["env"]
        cmd_env = dict(env)
        for a in c.get("env", []):
            cmd_env[a["name"]] = expand(a["value"], env)[0]
        argv = [v for v, keep in (expand(w, env) for w in c.get("args", [])) if keep]
        last = i == len(cmds) - 1
        if argv[:1] == ["exec"]:
            argv, last = argv[1:], True
        if not argv:
            state["env"], state["status"] = cmd_env, 0
            continue
        if builtin(argv, cmd_env if argv[0] == "export" else env, state):
            if argv[0] == "export":
                state["env"].update((a["name"], cmd_env[a["name"]]) for a in c.get("env", []))
            continue
        argv = program(argv)
        if last:
            try:
                os.chdir(state["cwd"])
                os.execvpe(argv[0], argv, cmd_env)
            except OSError as e:
                sys.exit(fail(argv, e))
        state["status"] = spawn(argv, cmd_env, state["cwd"])
    sys.exit(state["status"])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: distill_exec.py '<plan>'")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)
    run(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
`

// readProcfile parses appDir/Procfile (see internal/procfile); nil when there is none. Every
// command must run without a shell (see internal/command): the run image has none.
func readProcfile(appDir string) ([]procfile.Entry, error) {
	entries, _, err := procfile.Read(appDir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if _, err := command.Parse(e.Command); err != nil {
			return nil, fmt.Errorf("%s:%d: the %s process %q cannot run without a shell (the run image has none): %w. "+
				"Supported: %s", filepath.Join(appDir, procfile.Name), e.Line, e.Type, e.Command, err, command.Supported)
		}
	}
	return entries, nil
}

// appObject is a WSGI or ASGI application object found in the app's source.
type appObject struct {
	Module, Var string
	ASGI        bool
}

func (a appObject) String() string { return a.Module + ":" + a.Var }

var (
	appAssignRE = regexp.MustCompile(`(?m)^(app|application)\s*(?::[^=\n]+)?=`)
	asgiRE      = regexp.MustCompile(`(?m)(^\s*(from|import)\s+(fastapi|starlette|quart)\b|\b(FastAPI|Starlette|Quart)\()`)
)

// findAppObject looks for a module-level `app`/`application` in the usual entry modules.
func findAppObject(appDir string) (appObject, bool, error) {
	for _, mod := range []string{"wsgi", "asgi", "app", "main", "application", "server"} {
		data, err := readOptional(filepath.Join(appDir, mod+".py"))
		if err != nil {
			return appObject{}, false, err
		}
		if data == nil {
			continue
		}
		m := appAssignRE.FindSubmatch(data)
		if m == nil {
			continue
		}
		return appObject{Module: mod, Var: string(m[1]), ASGI: mod == "asgi" || asgiRE.Match(data)}, true, nil
	}
	return appObject{}, false, nil
}

// process is one launch process the buildpack decided on.
type process struct {
	Type    string
	Command []string
	Line    string // the command line as written, when Command runs it through the runner
	Why     string
}

// shown is how the log shows the process: the line as written, else the argv.
func (p process) shown() string {
	if p.Line != "" {
		return p.Line + " (through distill_exec.py, no shell)"
	}
	return shellJoin(p.Command)
}

// viaRunner records line on p when its command goes through the runner.
func (p process) viaRunner(e processEnv, line string) process {
	if len(p.Command) > 3 && p.Command[3] == e.ExecScript {
		p.Line = line
	}
	return p
}

// processEnv locates the programs processes use.
type processEnv struct {
	Python     string   // the interpreter processes use (the venv's, else the cpython layer's)
	ExecScript string   // the wrapper
	BinDirs    []string // where installed scripts live (venv/bin, project/bin)
}

func (e processEnv) installed(name string) string {
	for _, d := range e.BinDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// command turns a command line into argv: one plain program runs directly, resolved to an
// absolute path when the buildpack installed it; anything else (variables, VAR=x prefixes,
// lists, builtins) runs through the runner with the plan internal/command parsed.
func (e processEnv) command(line string) ([]string, error) {
	s, err := command.Parse(line)
	if err != nil {
		return nil, err
	}
	argv, plain := s.Argv()
	if !plain {
		plan, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("encoding the plan of %q: %w", line, err)
		}
		return []string{e.Python, "-I", "-S", e.ExecScript, string(plan)}, nil
	}
	switch {
	case argv[0] == "python" || argv[0] == "python3" || strings.HasPrefix(argv[0], "python3."):
		argv[0] = e.Python
	case !strings.Contains(argv[0], "/"):
		if p := e.installed(argv[0]); p != "" {
			argv[0] = p
		}
	}
	return argv, nil
}

// decideProcesses: the Procfile; else gunicorn for a WSGI app / uvicorn for an ASGI app when
// installed; else the project's single [project.scripts] entry; else python main.py / app.py.
func decideProcesses(appDir string, env processEnv, scripts []string) ([]process, error) {
	entries, err := readProcfile(appDir)
	if err != nil {
		return nil, err
	}
	if len(entries) > 0 {
		var ps []process
		for _, e := range entries {
			argv, err := env.command(e.Command)
			if err != nil {
				return nil, fmt.Errorf("%s: the %s process: %w", filepath.Join(appDir, "Procfile"), e.Type, err)
			}
			ps = append(ps, process{Type: e.Type, Command: argv, Why: "Procfile"}.viaRunner(env, e.Command))
		}
		return ps, nil
	}
	obj, found, err := findAppObject(appDir)
	if err != nil {
		return nil, err
	}
	if found {
		line, server := "gunicorn --bind :$PORT "+obj.String(), "gunicorn"
		if obj.ASGI {
			line, server = "uvicorn --host 0.0.0.0 --port $PORT "+obj.String(), "uvicorn"
		}
		if env.installed(server) != "" {
			argv, err := env.command(line)
			if err != nil {
				return nil, fmt.Errorf("the %s command %q: %w", server, line, err)
			}
			kind := map[bool]string{true: "ASGI", false: "WSGI"}[obj.ASGI]
			p := process{Type: "web", Command: argv, Why: kind + " app " + obj.String() + " and " + server + " installed"}
			return []process{p.viaRunner(env, line)}, nil
		}
	}
	var present []string
	for _, s := range scripts {
		if env.installed(s) != "" {
			present = append(present, s)
		}
	}
	sort.Strings(present)
	if len(present) == 1 {
		return []process{{Type: "web", Command: []string{env.installed(present[0])}, Why: "[project.scripts] " + present[0]}}, nil
	}
	for _, f := range []string{"main.py", "app.py"} {
		if ok, err := isFile(filepath.Join(appDir, f)); err != nil {
			return nil, err
		} else if ok {
			return []process{{Type: "web", Command: []string{env.Python, f}, Why: f}}, nil
		}
	}
	msg := "no process to run: add a Procfile (web: <command>), a main.py or app.py"
	if found {
		server := "gunicorn"
		if obj.ASGI {
			server = "uvicorn"
		}
		msg = fmt.Sprintf("found the app object %s but %s is not installed: add it to the requirements or write a Procfile", obj, server)
	} else if len(present) > 1 {
		msg = fmt.Sprintf("[project.scripts] defines %d scripts (%s): name the one to run in a Procfile", len(present), strings.Join(present, ", "))
	}
	return nil, fmt.Errorf("%s", msg)
}
