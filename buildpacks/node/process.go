package node

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/command"
	"github.com/distill-build/distill/internal/procfile"
)

//go:embed launcher/launch.js
var launcherJS []byte

//go:embed launcher/signals.js
var signalsJS []byte

// LauncherFile is the launcher's file name in its layer.
const LauncherFile = "launch.js"

// startCommand is a command the image should run, before it is turned into a process.
type startCommand struct {
	Type    string
	Command string // shell-syntax command line (Procfile, start script) ...
	Argv    []string
	Source  string // "Procfile", "package.json scripts.start", "package.json main", "server.js"
	Dir     string // where it runs: the app, or the started workspace

	// NodeFlags go before the script of every node the process starts directly (Plug'n'Play's
	// --require .pnp.cjs); Bins are the package executables that no node_modules/.bin holds
	// (Plug'n'Play's, inside their zips), by command name.
	NodeFlags []string
	Bins      map[string]string

	// npm start's hooks (package.json scripts.prestart and scripts.poststart), run around the
	// command as npm start runs them; NpmEnv is what npm sets for them (npm_package_name, ...).
	Pre, Post string
	NpmEnv    []string
}

// withNpmHooks gives a command that npm start would run (scripts.start, or its default node
// server.js) the prestart and poststart scripts and npm's package variables.
func withNpmHooks(sc startCommand, pkg packageJSON) startCommand {
	sc.Pre = strings.TrimSpace(pkg.Scripts["prestart"])
	sc.Post = strings.TrimSpace(pkg.Scripts["poststart"])
	if sc.Pre == "" && sc.Post == "" {
		return sc
	}
	if sc.Command == "" {
		sc.Command = strings.Join(sc.Argv, " ")
		sc.Argv = nil
	}
	for _, kv := range [][2]string{{"npm_package_name", pkg.Name}, {"npm_package_version", pkg.Version}} {
		if kv[1] != "" {
			sc.NpmEnv = append(sc.NpmEnv, kv[0]+"="+kv[1])
		}
	}
	return sc
}

// scripts is every command line the start command runs, hooks first.
func (sc startCommand) scripts() []string {
	var out []string
	for _, s := range []string{sc.Pre, sc.Command, sc.Post} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readProcfile reads <app>/Procfile (type: command lines); ok is false without one. A Procfile
// without a process is an error: the image would have no command.
func readProcfile(appDir string) ([]startCommand, bool, error) {
	entries, ok, err := procfile.Read(appDir)
	if err != nil || !ok {
		return nil, false, err
	}
	if len(entries) == 0 {
		return nil, false, fmt.Errorf("%s holds no process: add a line such as `web: node server.js`, or delete it", filepath.Join(appDir, procfile.Name))
	}
	out := make([]startCommand, 0, len(entries))
	for _, e := range entries {
		out = append(out, startCommand{Type: e.Type, Command: e.Command, Source: "Procfile"})
	}
	return out, true, nil
}

// startCommands decides what the image runs: the Procfile, else scripts.start, else node with
// main, server.js, app.js or index.js.
func startCommands(appDir string, pkg packageJSON) ([]startCommand, error) {
	if cmds, ok, err := readProcfile(appDir); err != nil || ok {
		return cmds, err
	}
	if s := strings.TrimSpace(pkg.Scripts["start"]); s != "" {
		return []startCommand{withNpmHooks(startCommand{Type: "web", Command: s, Source: "package.json scripts.start"}, pkg)}, nil
	}
	if _, err := os.Stat(filepath.Join(appDir, "server.js")); err == nil && (pkg.Scripts["prestart"] != "" || pkg.Scripts["poststart"] != "") {
		// npm start without a start script runs node server.js, with the hooks.
		return []startCommand{withNpmHooks(startCommand{Type: "web", Argv: []string{"node", "server.js"}, Source: "npm start's default (node server.js)"}, pkg)}, nil
	}
	if pkg.Main != "" {
		for _, cand := range []string{pkg.Main, pkg.Main + ".js"} {
			if ok, _ := isFile(filepath.Join(appDir, cand)); ok {
				return []startCommand{{Type: "web", Argv: []string{"node", cand}, Source: "package.json main"}}, nil
			}
		}
	}
	for _, name := range entryFiles {
		if ok, _ := isFile(filepath.Join(appDir, name)); ok {
			return []startCommand{{Type: "web", Argv: []string{"node", name}, Source: name}}, nil
		}
	}
	return nil, nil
}

// parseScript parses a start command line at build time with the grammar every distill buildpack
// shares (internal/command); one that needs a shell fails the build, naming where it came from.
func parseScript(source, line string) (command.Script, error) {
	sc, err := command.Parse(line)
	if err != nil {
		return sc, fmt.Errorf("%s %q cannot run without a shell (the run image has none): %w. Supported: %s; or give a Procfile",
			source, line, err, command.Supported)
	}
	return sc, nil
}

// wordsOf renders each command of a script as its words, a variable reference as $NAME, for
// looking at what it runs (node entry files, package commands).
func wordsOf(sc command.Script) [][]string {
	out := make([][]string, 0, len(sc.Commands))
	for _, c := range sc.Commands {
		argv := make([]string, 0, len(c.Args))
		for _, w := range c.Args {
			var b strings.Builder
			for _, p := range w.Parts {
				if p.Var != "" {
					b.WriteString("$" + p.Var)
				} else {
					b.WriteString(p.Text)
				}
			}
			argv = append(argv, b.String())
		}
		out = append(out, argv)
	}
	return out
}

// launchPlan is what launch.js runs (see launcher/launch.js): npm's package variables and the
// steps (prestart, start, poststart, or one unnamed step), each a parsed script.
type launchPlan struct {
	Env   map[string]string `json:"env,omitempty"`
	Steps []launchStep      `json:"steps"`
}

// launchStep is one script of a launch plan; Event becomes npm_lifecycle_event.
type launchStep struct {
	Event string `json:"event,omitempty"`
	Line  string `json:"script"` // the command line as written, for npm_lifecycle_script
	command.Script
}

// launcherProcess runs plan through the launcher: node launch.js '<plan JSON>'.
func launcherProcess(typ, nodeBin, launcherPath string, plan launchPlan) (libcnb.Process, error) {
	data, err := encodePlan(plan)
	if err != nil {
		return libcnb.Process{}, fmt.Errorf("encoding the launch plan of process %s: %w", typ, err)
	}
	return libcnb.Process{Type: typ, Command: []string{nodeBin, launcherPath, data}}, nil
}

// encodePlan renders a plan as one line of JSON, with & and < as themselves (it is read by
// launch.js and by people looking at launch.toml, not by a browser).
func encodePlan(plan launchPlan) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(plan); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// processFor turns a start command into a process: a direct `node …` where possible (also for
// node_modules/.bin commands that are node scripts), else the launcher running its parsed plan.
// nodeBin is the launch layer's node.
func processFor(sc startCommand, nodeBin, launcherPath string) (libcnb.Process, bool, []string, error) {
	if sc.Pre != "" || sc.Post != "" {
		return hookedProcess(sc, nodeBin, launcherPath)
	}
	node := append([]string{nodeBin}, sc.NodeFlags...)
	proc := libcnb.Process{Type: sc.Type}
	argv := sc.Argv
	var warnings []string
	var parsed command.Script
	if argv == nil {
		var err error
		if parsed, err = parseScript(sc.Source, sc.Command); err != nil {
			return proc, false, nil, err
		}
		simple, ok := parsed.Argv()
		if !ok {
			warnings = append(warnings, missingCommands(sc.Source, sc.Dir, parsed)...)
			proc, err := launcherProcess(sc.Type, nodeBin, launcherPath, launchPlan{Steps: []launchStep{{Line: sc.Command, Script: parsed}}})
			return proc, true, warnings, err
		}
		argv = simple
	}
	switch name := argv[0]; {
	case name == "node" || name == "nodejs":
		proc.Command = append(node, argv[1:]...)
		return proc, false, nil, nil
	case !strings.Contains(name, "/"):
		if script, ok := sc.Bins[name]; ok {
			proc.Command = append(append(node, script), argv[1:]...)
			return proc, false, nil, nil
		}
		if script, ok := binScript(sc.Dir, name); ok {
			proc.Command = append(append(node, script), argv[1:]...)
			return proc, false, nil, nil
		}
		warnings = append(warnings, fmt.Sprintf("%s: %q is not node or a node_modules/.bin command; the image has no %s unless the app provides it", sc.Source, name, name))
		if sc.Command == "" {
			sc.Command = strings.Join(argv, " ")
		}
		parsed, err := parseScript(sc.Source, sc.Command)
		if err != nil {
			return proc, false, nil, err
		}
		proc, err := launcherProcess(sc.Type, nodeBin, launcherPath, launchPlan{Steps: []launchStep{{Line: sc.Command, Script: parsed}}})
		return proc, true, warnings, err
	}
	proc.Command = argv
	return proc, false, nil, nil
}

// binScript resolves node_modules/.bin/<name>, in dir or the nearest ancestor that has it (as npm
// run puts every ancestor's node_modules/.bin on PATH), to a node script: its real path, which is
// also its path in the image.
func binScript(dir, name string) (string, bool) {
	var p string
	for d := dir; ; d = filepath.Dir(d) {
		var err error
		if p, err = filepath.EvalSymlinks(filepath.Join(d, "node_modules", ".bin", name)); err == nil {
			break
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
	data := make([]byte, 128)
	f, err := os.Open(p)
	if err != nil {
		return "", false
	}
	n, _ := f.Read(data)
	f.Close()
	head := string(data[:n])
	if strings.HasPrefix(head, "#!") {
		first, _, _ := strings.Cut(head, "\n")
		if !regexp.MustCompile(`\bnode(js)?\b`).MatchString(first) {
			return "", false
		}
	} else if !regexp.MustCompile(`\.(c|m)?js$`).MatchString(p) {
		return "", false
	}
	return p, true
}

// commandNames are the commands a parsed script runs that a package must provide: not node, a
// builtin, a path or an expansion.
func commandNames(sc command.Script) []string {
	var out []string
	for _, argv := range wordsOf(sc) {
		out = append(out, packageCommand(argv)...)
	}
	return out
}

func packageCommand(argv []string) []string {
	if len(argv) > 0 && argv[0] == "exec" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return nil
	}
	name := argv[0]
	if command.IsBuiltin(name) || name == "node" || name == "nodejs" || strings.Contains(name, "/") || strings.Contains(name, "$") {
		return nil
	}
	return []string{name}
}

// missingCommands warns about commands of a script that node_modules/.bin does not provide.
func missingCommands(source, dir string, sc command.Script) []string {
	var warnings []string
	for _, name := range commandNames(sc) {
		if _, ok := binScript(dir, name); !ok {
			warnings = append(warnings, fmt.Sprintf("%s: %q is not a node_modules/.bin command; the image has no %s unless the app provides it (if a devDependency provides it, move it to dependencies)", source, name, name))
		}
	}
	return warnings
}

// hookedProcess runs prestart, the command and poststart through the launcher, as npm start does.
func hookedProcess(sc startCommand, nodeBin, launcherPath string) (libcnb.Process, bool, []string, error) {
	plan := launchPlan{Env: map[string]string{}}
	for _, kv := range sc.NpmEnv {
		k, v, _ := strings.Cut(kv, "=")
		plan.Env[k] = v
	}
	var warnings []string
	for _, step := range [][2]string{{"prestart", sc.Pre}, {"start", sc.Command}, {"poststart", sc.Post}} {
		if step[1] == "" {
			continue
		}
		source := "package.json scripts." + step[0]
		if step[0] == "start" {
			source = sc.Source
		}
		parsed, err := parseScript(source, step[1])
		if err != nil {
			return libcnb.Process{}, false, nil, err
		}
		warnings = append(warnings, missingCommands(source, sc.Dir, parsed)...)
		plan.Steps = append(plan.Steps, launchStep{Event: step[0], Line: step[1], Script: parsed})
	}
	proc, err := launcherProcess(sc.Type, nodeBin, launcherPath, plan)
	return proc, true, warnings, err
}
