package node

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/buildpacks/libcnb/v2"

	"github.com/distill-build/distill/internal/procfile"
)

//go:embed launcher/launch.js
var launcherJS []byte

// LauncherFile is the launcher's file name in its layer.
const LauncherFile = "launch.js"

// startCommand is a command the image should run, before it is turned into a process.
type startCommand struct {
	Type    string
	Command string // shell-syntax command line (Procfile, start script) ...
	Argv    []string
	Source  string // "Procfile", "package.json scripts.start", "package.json main", "server.js"

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

// parsedCommand is launch.js --parse's answer.
type parsedCommand struct {
	Simple   bool     `json:"simple"`
	Argv     []string `json:"argv"`
	Commands []struct {
		Op   string   `json:"op"`
		Argv []string `json:"argv"`
	} `json:"commands"`
}

// parseCommand asks the launcher (with the build's node) how it reads a command line, so build and
// launch agree; a command it cannot run without a shell is an error here, at build time.
func parseCommand(nodeBin, launcher, command string) (parsedCommand, error) {
	cmd := exec.Command(nodeBin, launcher, "--parse", command)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return parsedCommand{}, errors.New(strings.TrimSpace(strings.TrimPrefix(stderr.String(), "launch: ")))
	}
	var p parsedCommand
	if err := json.Unmarshal(out, &p); err != nil {
		return parsedCommand{}, fmt.Errorf("launch.js --parse: %v: %s", err, out)
	}
	return p, nil
}

var launcherBuiltins = map[string]bool{"echo": true, "true": true, "false": true, ":": true, "cd": true, "export": true, "exit": true, "exec": true}

// processFor turns a start command into a process: a direct `node …` where possible (also for
// node_modules/.bin commands that are node scripts), else the launcher. nodeBin is the launch
// layer's node, buildNode the node that runs launch.js --parse now.
func processFor(sc startCommand, appDir, nodeBin, buildNode, launcherPath string) (libcnb.Process, bool, []string, error) {
	if sc.Pre != "" || sc.Post != "" {
		return hookedProcess(sc, appDir, nodeBin, buildNode, launcherPath)
	}
	proc := libcnb.Process{Type: sc.Type}
	argv := sc.Argv
	var warnings []string
	if argv == nil {
		p, err := parseCommand(buildNode, launcherPath, sc.Command)
		if err != nil {
			return proc, false, nil, fmt.Errorf("%s %q: %v. Write it as simple commands (a && b, a; b, VAR=value cmd) or give a Procfile", sc.Source, sc.Command, err)
		}
		if !p.Simple {
			warnings = append(warnings, missingCommands(sc.Source, appDir, p)...)
			proc.Command = []string{nodeBin, launcherPath, "-c", sc.Command}
			return proc, true, warnings, nil
		}
		argv = p.Argv
	}
	switch name := argv[0]; {
	case name == "node" || name == "nodejs":
		proc.Command = append([]string{nodeBin}, argv[1:]...)
		return proc, false, nil, nil
	case !strings.Contains(name, "/"):
		if script, ok := binScript(appDir, name); ok {
			proc.Command = append([]string{nodeBin, script}, argv[1:]...)
			return proc, false, nil, nil
		}
		warnings = append(warnings, fmt.Sprintf("%s: %q is not node or a node_modules/.bin command; the image has no %s unless the app provides it", sc.Source, name, name))
		proc.Command = []string{nodeBin, launcherPath, "-c", sc.Command}
		return proc, true, warnings, nil
	}
	proc.Command = argv
	return proc, false, nil, nil
}

// binScript resolves node_modules/.bin/<name> to a node script (its real path, which is also its path
// in the image).
func binScript(appDir, name string) (string, bool) {
	p, err := filepath.EvalSymlinks(filepath.Join(appDir, "node_modules", ".bin", name))
	if err != nil {
		return "", false
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
// launcher builtin, a path or an expansion.
func commandNames(p parsedCommand) []string {
	if p.Simple {
		return packageCommand(p.Argv)
	}
	var out []string
	for _, c := range p.Commands {
		out = append(out, packageCommand(c.Argv)...)
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
	if launcherBuiltins[name] || name == "node" || name == "nodejs" || strings.Contains(name, "/") || strings.Contains(name, "$") {
		return nil
	}
	return []string{name}
}

// missingCommands warns about commands of a script that node_modules/.bin does not provide.
func missingCommands(source, appDir string, p parsedCommand) []string {
	var warnings []string
	for _, name := range commandNames(p) {
		if _, ok := binScript(appDir, name); !ok {
			warnings = append(warnings, fmt.Sprintf("%s: %q is not a node_modules/.bin command; the image has no %s unless the app provides it (if a devDependency provides it, move it to dependencies)", source, name, name))
		}
	}
	return warnings
}

// hookedProcess runs prestart, the command and poststart through the launcher, as npm start does.
func hookedProcess(sc startCommand, appDir, nodeBin, buildNode, launcherPath string) (libcnb.Process, bool, []string, error) {
	proc := libcnb.Process{Type: sc.Type, Command: []string{nodeBin, launcherPath}}
	for _, kv := range sc.NpmEnv {
		proc.Command = append(proc.Command, "--set", kv)
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
		p, err := parseCommand(buildNode, launcherPath, step[1])
		if err != nil {
			return proc, false, nil, fmt.Errorf("%s %q: %v. Write it as simple commands (a && b, a; b, VAR=value cmd) or give a Procfile", source, step[1], err)
		}
		warnings = append(warnings, missingCommands(source, appDir, p)...)
		proc.Command = append(proc.Command, "--run", step[0], step[1])
	}
	return proc, true, warnings, nil
}
