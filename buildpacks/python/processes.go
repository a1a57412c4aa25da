package python

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// execScript is the process wrapper: the run image has no shell, so a command that uses
// environment variables ($PORT) runs as `python -I -S distill_exec.py '<command>'`, which expands
// $VAR, ${VAR}, ${VAR:-default} and ${VAR-default} with shell quoting rules (no field splitting
// of expansions, no globbing), sets PORT=8080 when it is unset, and execs the command.
// `python`, `python3` and `python3.X` run the interpreter that runs the wrapper (the venv's).
const execScript = `"""distill exec: run a Procfile-style command without a shell (see the distill/python buildpack)."""
import os
import sys


def _var(s, i):
    if s.startswith("${", i):
        j = s.index("}", i)
        body = s[i + 2:j]
        for sep in (":-", "-"):
            name, found, default = body.partition(sep)
            if found:
                val = os.environ.get(name)
                if val is None or (sep == ":-" and val == ""):
                    val = default
                return val, j + 1
        return os.environ.get(body, ""), j + 1
    j = i + 1
    while j < len(s) and (s[j].isalnum() or s[j] == "_"):
        j += 1
    if j == i + 1:
        return "$", j
    return os.environ.get(s[i + 1:j], ""), j


def words(s):
    out, cur, have, i = [], [], False, 0
    while i < len(s):
        c = s[i]
        if c in " \t\r\n":
            if have:
                out.append("".join(cur))
                cur, have = [], False
            i += 1
            continue
        have = True
        if c == "'":
            j = s.index("'", i + 1)
            cur.append(s[i + 1:j])
            i = j + 1
        elif c == '"':
            i += 1
            while s[i] != '"':
                if s[i] == "\\" and s[i + 1] in '"\\$':
                    cur.append(s[i + 1])
                    i += 2
                elif s[i] == "$":
                    v, i = _var(s, i)
                    cur.append(v)
                else:
                    cur.append(s[i])
                    i += 1
            i += 1
        elif c == "\\" and i + 1 < len(s):
            cur.append(s[i + 1])
            i += 2
        elif c == "$":
            v, i = _var(s, i)
            cur.append(v)
        else:
            cur.append(c)
            i += 1
    if have:
        out.append("".join(cur))
    return out


def main():
    os.environ.setdefault("PORT", "8080")
    if len(sys.argv) != 2:
        sys.exit("usage: distill_exec.py '<command>'")
    argv = words(sys.argv[1])
    while argv and "=" in argv[0] and argv[0].split("=", 1)[0].isidentifier():
        k, v = argv.pop(0).split("=", 1)
        os.environ[k] = v
    if not argv:
        sys.exit("distill exec: empty command")
    if argv[0] in ("python", "python3", "python%d.%d" % sys.version_info[:2]):
        argv[0] = sys.executable
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        sys.stderr.write("distill exec: %s: %s\n" % (argv[0], e.strerror))
        sys.exit(127)


if __name__ == "__main__":
    main()
`

// procfileEntry is one Procfile line.
type procfileEntry struct {
	Type, Command string
}

var procfileRE = regexp.MustCompile(`^([A-Za-z0-9_-]+):\s*(.+)$`)

// readProcfile parses appDir/Procfile; nil when there is none.
func readProcfile(appDir string) ([]procfileEntry, error) {
	p := filepath.Join(appDir, "Procfile")
	data, err := readOptional(p)
	if err != nil || data == nil {
		return nil, err
	}
	var entries []procfileEntry
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := procfileRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: %q is not a `type: command` line", p, n, line)
		}
		if seen[m[1]] {
			return nil, fmt.Errorf("%s:%d: process type %q is defined twice", p, n, m[1])
		}
		seen[m[1]] = true
		cmd := strings.TrimSpace(m[2])
		if op := shellOperator(cmd); op != "" {
			return nil, fmt.Errorf("%s:%d: the %s process uses %q, which needs a shell; the run image has none. "+
				"Run one program per process (environment variables like $PORT are expanded)", p, n, m[1], op)
		}
		entries = append(entries, procfileEntry{Type: m[1], Command: cmd})
	}
	return entries, sc.Err()
}

// shellOperator returns the first unquoted shell operator in cmd ("&&", "|", ";", ">", "<",
// "`", "$(", "*"), or "".
func shellOperator(cmd string) string {
	inSingle, inDouble := false, false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '\\' && !inSingle:
			i++
		case c == '\'' && !inDouble:
			inSingle = !inSingle
		case c == '"' && !inSingle:
			inDouble = !inDouble
		case inSingle:
		case c == '`':
			return "`"
		case c == '$' && i+1 < len(cmd) && cmd[i+1] == '(':
			return "$("
		case inDouble:
		case c == '&' || c == '|':
			if i+1 < len(cmd) && cmd[i+1] == c {
				return string([]byte{c, c})
			}
			return string(c)
		case c == ';' || c == '>' || c == '<':
			return string(c)
		}
	}
	return ""
}

// splitWords splits a command without variables into words, honouring quotes and backslashes.
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	have, inSingle, inDouble := false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inSingle:
			if c == '\'' {
				inSingle = false
			} else {
				cur.WriteByte(c)
			}
		case inDouble:
			if c == '"' {
				inDouble = false
			} else if c == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`, s[i+1]) >= 0 {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == ' ' || c == '\t':
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		case c == '\'':
			inSingle, have = true, true
		case c == '"':
			inDouble, have = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			have = true
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
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
	Why     string
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

// command turns a command line into argv: through the wrapper when it uses variables, else
// split directly with the program resolved to an absolute path when the buildpack installed it.
func (e processEnv) command(line string) []string {
	if strings.Contains(line, "$") {
		return []string{e.Python, "-I", "-S", e.ExecScript, line}
	}
	argv := splitWords(line)
	switch {
	case len(argv) == 0:
	case argv[0] == "python" || argv[0] == "python3" || strings.HasPrefix(argv[0], "python3."):
		argv[0] = e.Python
	case !strings.Contains(argv[0], "/"):
		if p := e.installed(argv[0]); p != "" {
			argv[0] = p
		}
	}
	return argv
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
			ps = append(ps, process{Type: e.Type, Command: env.command(e.Command), Why: "Procfile"})
		}
		return ps, nil
	}
	obj, found, err := findAppObject(appDir)
	if err != nil {
		return nil, err
	}
	if found {
		if obj.ASGI && env.installed("uvicorn") != "" {
			return []process{{Type: "web", Command: env.command("uvicorn --host 0.0.0.0 --port $PORT " + obj.String()),
				Why: "ASGI app " + obj.String() + " and uvicorn installed"}}, nil
		}
		if !obj.ASGI && env.installed("gunicorn") != "" {
			return []process{{Type: "web", Command: env.command("gunicorn --bind :$PORT " + obj.String()),
				Why: "WSGI app " + obj.String() + " and gunicorn installed"}}, nil
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
