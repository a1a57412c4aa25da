package node

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func requireNode(t *testing.T) string {
	t.Helper()
	return testenv.NeedCommand(t, "node", "the Node.js tests run the launcher with the host's node")
}

func TestStartCommands(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    string // type|command or argv|source; "" = none
		wantErr string
	}{
		{name: "start script", files: map[string]string{"package.json": `{"scripts":{"start":"node app.js"}}`}, want: "web|node app.js||package.json scripts.start"},
		{name: "Procfile wins", files: map[string]string{"package.json": `{"scripts":{"start":"node app.js"}}`, "Procfile": "# comment\nweb: node server.js --port $PORT\nworker: node worker.js\n"},
			want: "web|node server.js --port $PORT||Procfile;worker|node worker.js||Procfile"},
		{name: "main", files: map[string]string{"package.json": `{"main":"lib/index"}`, "lib/index.js": ""}, want: "web||node lib/index.js|package.json main"},
		{name: "main missing falls back", files: map[string]string{"package.json": `{"main":"missing.js"}`, "app.js": ""}, want: "web||node app.js|app.js"},
		{name: "server.js before app.js", files: map[string]string{"app.js": "", "server.js": "", "index.js": ""}, want: "web||node server.js|server.js"},
		{name: "index.js", files: map[string]string{"index.js": ""}, want: "web||node index.js|index.js"},
		{name: "nothing", files: map[string]string{"package.json": `{}`}, want: ""},
		{name: "bad Procfile", files: map[string]string{"Procfile": "just a line\n"}, wantErr: "Procfile:1: \"just a line\" is not a `<type>: <command>` line"},
		{name: "a Procfile type twice", files: map[string]string{"Procfile": "web: node a.js\nweb: node b.js\n"}, wantErr: "Procfile:2: process type \"web\" is defined twice"},
		{name: "an empty Procfile", files: map[string]string{"Procfile": "# later\n", "server.js": ""}, wantErr: "Procfile holds no process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				testenv.WriteFile(t, filepath.Join(dir, name), content)
			}
			pkg, _, err := readPackageJSON(dir)
			if err != nil {
				t.Fatal(err)
			}
			cmds, err := startCommands(dir, pkg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cmds {
				got = append(got, strings.Join([]string{c.Type, c.Command, strings.Join(c.Argv, " "), c.Source}, "|"))
			}
			if g := strings.Join(got, ";"); g != tt.want {
				t.Errorf("got %q, want %q", g, tt.want)
			}
		})
	}
}

func TestProcessFor(t *testing.T) {
	dir := t.TempDir()
	launcher := filepath.Join(dir, "launcher", LauncherFile)
	testenv.WriteFile(t, launcher, string(launcherJS))
	app := filepath.Join(dir, "app")
	testenv.WriteFile(t, filepath.Join(app, "node_modules", "next", "dist", "bin", "next"), "#!/usr/bin/env node\nconsole.log(1)\n")
	testenv.WriteFile(t, filepath.Join(app, "node_modules", "sh-tool", "run.sh"), "#!/bin/sh\necho\n")
	if err := os.MkdirAll(filepath.Join(app, "node_modules", ".bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Symlink("../next/dist/bin/next", filepath.Join(app, "node_modules", ".bin", "next"))
	os.Symlink("../sh-tool/run.sh", filepath.Join(app, "node_modules", ".bin", "sh-tool"))
	nextReal, _ := filepath.EvalSymlinks(filepath.Join(app, "node_modules", "next", "dist", "bin", "next"))
	const launchNode = "/layers/distill_node/node-runtime/bin/node"

	tests := []struct {
		name     string
		sc       startCommand
		want     string
		launcher bool
		warn     string
		wantErr  string
	}{
		{name: "bare node", sc: startCommand{Type: "web", Command: "node server.js"}, want: launchNode + " server.js"},
		{name: "node with flags", sc: startCommand{Type: "web", Command: "node --enable-source-maps dist/main.js --x 'a b'"}, want: launchNode + " --enable-source-maps dist/main.js --x a b"},
		{name: "argv fallback", sc: startCommand{Type: "web", Argv: []string{"node", "index.js"}}, want: launchNode + " index.js"},
		{name: ".bin node script", sc: startCommand{Type: "web", Command: "next start -p 3000"}, want: launchNode + " " + nextReal + " start -p 3000"},
		{name: "chain needs the launcher", sc: startCommand{Type: "web", Command: "echo start && node server.js"}, want: launchNode + " " + launcher + " " + planJSON(t, "", "echo start && node server.js"), launcher: true},
		{name: "expansion needs the launcher", sc: startCommand{Type: "web", Command: "node server.js --port $PORT"}, launcher: true},
		{name: "env prefix needs the launcher", sc: startCommand{Type: "web", Command: "NODE_OPTIONS=--max-old-space-size=256 node server.js"}, launcher: true},
		{name: "npm in a chain warns", sc: startCommand{Type: "web", Source: "package.json scripts.start", Command: "npm run migrate && node server.js"}, launcher: true, warn: `"npm" is not a node_modules/.bin command`},
		{name: "shell .bin script warns", sc: startCommand{Type: "web", Command: "sh-tool"}, launcher: true, warn: `"sh-tool" is not node`},
		{name: "pipe refused", sc: startCommand{Type: "web", Source: "package.json scripts.start", Command: "node server.js | tee log"}, wantErr: `package.json scripts.start "node server.js | tee log" cannot run without a shell`},
		{name: "redirect refused", sc: startCommand{Type: "web", Command: "node server.js > out.log"}, wantErr: "redirections"},
		{name: "Plug'n'Play flags before the script", sc: startCommand{Type: "web", Command: "node server.js", NodeFlags: []string{"--require", "/workspace/.pnp.cjs"}}, want: launchNode + " --require /workspace/.pnp.cjs server.js"},
		{name: "Plug'n'Play flags before a .bin script", sc: startCommand{Type: "web", Command: "next start", NodeFlags: []string{"--require", "/workspace/.pnp.cjs"}}, want: launchNode + " --require /workspace/.pnp.cjs " + nextReal + " start"},
		{name: "Plug'n'Play executable inside its zip", sc: startCommand{Type: "web", Command: "serve -p 3000", NodeFlags: []string{"--require", "/workspace/.pnp.cjs"}, Bins: map[string]string{"serve": "/layers/x/yarn-cache/serve.zip/node_modules/serve/bin/serve.js"}},
			want: launchNode + " --require /workspace/.pnp.cjs /layers/x/yarn-cache/serve.zip/node_modules/serve/bin/serve.js -p 3000"},
		{name: "workspace finds the root's .bin", sc: startCommand{Type: "web", Command: "next start", Dir: filepath.Join(app, "apps", "web")}, want: launchNode + " " + nextReal + " start"},
		{name: "absolute path direct", sc: startCommand{Type: "web", Command: "/app/bin/server --x"}, want: "/app/bin/server --x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := tt.sc
			if sc.Dir == "" {
				sc.Dir = app
			}
			p, viaLauncher, warnings, err := processFor(sc, launchNode, launcher)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if viaLauncher != tt.launcher {
				t.Errorf("launcher = %v, want %v (%q)", viaLauncher, tt.launcher, p.Command)
			}
			if tt.want != "" && strings.Join(p.Command, " ") != tt.want {
				t.Errorf("command = %q, want %q", strings.Join(p.Command, " "), tt.want)
			}
			if tt.warn != "" && !strings.Contains(strings.Join(warnings, "\n"), tt.warn) {
				t.Errorf("warnings %q lack %q", warnings, tt.warn)
			}
			if tt.warn == "" && len(warnings) > 0 {
				t.Errorf("unexpected warnings %q", warnings)
			}
		})
	}
}

// planJSON is the launch plan of one script (event "" for a Procfile's or a start script without
// hooks), as processFor writes it.
func planJSON(t *testing.T, event, script string) string {
	t.Helper()
	parsed, err := parseScript("test", script)
	if err != nil {
		t.Fatal(err)
	}
	data, err := encodePlan(launchPlan{Steps: []launchStep{{Event: event, Line: script, Script: parsed}}})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestLauncherRuns runs launch.js with each script's plan under the host's node, as the image would.
func TestLauncherRuns(t *testing.T) {
	testenv.Slow(t, "runs each command line under node")
	node := requireNode(t)
	dir := t.TempDir()
	launcher := filepath.Join(dir, LauncherFile)
	testenv.WriteFile(t, launcher, string(launcherJS))
	app := filepath.Join(dir, "app")
	testenv.WriteFile(t, filepath.Join(app, "server.js"), "console.log('server', process.argv.slice(2).join(','), process.env.GREETING || '-', process.cwd().endsWith('sub') ? 'in sub' : 'in app')\n")
	testenv.WriteFile(t, filepath.Join(app, "sub", "x.js"), "console.log('sub x')\n")
	testenv.WriteFile(t, filepath.Join(app, "node_modules", "tool", "cli.js"), "#!/usr/bin/env node\nconsole.log('tool', process.argv.slice(2).join(','))\n")
	os.Chmod(filepath.Join(app, "node_modules", "tool", "cli.js"), 0o755)
	os.MkdirAll(filepath.Join(app, "node_modules", ".bin"), 0o755)
	os.Symlink("../tool/cli.js", filepath.Join(app, "node_modules", ".bin", "tool"))

	tests := []struct {
		script string
		want   string
		code   int
	}{
		{script: `echo "starting on ${PORT:-8080}" && node server.js a 'b c'`, want: "starting on 9999\nserver a,b c - in app\n"},
		{script: `GREETING=hi node server.js`, want: "server  hi in app\n"},
		{script: `export GREETING=yo; node server.js`, want: "server  yo in app\n"},
		{script: `false || echo fallback; false && echo never; echo -n done`, want: "fallback\ndone"},
		{script: `cd sub && node x.js`, want: "sub x\n"},
		{script: `tool --flag`, want: "tool --flag\n"},
		{script: `exec node -e "process.exit(7)"`, code: 7},
		{script: `node -e "process.exit(3)" && echo never`, code: 3},
		{script: `nosuchcommand`, code: 127},
		{script: `exit 4`, code: 4},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			cmd := exec.Command(node, launcher, planJSON(t, "", tt.script))
			cmd.Dir = app
			cmd.Env = append(os.Environ(), "PORT=9999", "GREETING=")
			out, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d (output %q)", code, tt.code, out)
			}
			if tt.want != "" && string(out) != strings.ReplaceAll(tt.want, "server  ", "server  ") {
				t.Errorf("output %q, want %q", out, tt.want)
			}
		})
	}
}

// TestNpmStartHooks: the default process runs prestart, start and poststart as npm start does,
// also around npm start's default node server.js; a Procfile has no hooks.
func TestNpmStartHooks(t *testing.T) {
	dir := t.TempDir()
	launcher := filepath.Join(dir, LauncherFile)
	testenv.WriteFile(t, launcher, string(launcherJS))
	const ln = "/n/bin/node"
	tests := []struct {
		name, pkg, want string
		server          bool
		wantErr         string
	}{
		{name: "pre and post", pkg: `{"name":"a","version":"1.2.3","scripts":{"prestart":"node gen.js","start":"node server.js","poststart":"echo done"}}`,
			want: "npm_package_name=a npm_package_version=1.2.3 | prestart: node gen.js | start: node server.js | poststart: echo done"},
		{name: "default server.js", server: true, pkg: `{"scripts":{"prestart":"node gen.js"}}`,
			want: "prestart: node gen.js | start: node server.js"},
		{name: "no hooks stays direct", pkg: `{"scripts":{"start":"node server.js"}}`, want: ln + " server.js"},
		{name: "bad prestart fails the build", pkg: `{"scripts":{"prestart":"gen | tee x","start":"node server.js"}}`, wantErr: `package.json scripts.prestart "gen | tee x" cannot run without a shell`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := t.TempDir()
			testenv.WriteFile(t, filepath.Join(app, "package.json"), tt.pkg)
			if tt.server {
				testenv.WriteFile(t, filepath.Join(app, "server.js"), "")
			}
			pkg, _, err := readPackageJSON(app)
			if err != nil {
				t.Fatal(err)
			}
			cmds, err := startCommands(app, pkg)
			if err != nil || len(cmds) != 1 {
				t.Fatalf("startCommands = %+v, %v", cmds, err)
			}
			cmds[0].Dir = app
			p, _, _, err := processFor(cmds[0], ln, launcher)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := describeProcess(t, p.Command, ln, launcher); got != tt.want {
				t.Errorf("process %q\nwant    %q", got, tt.want)
			}
		})
	}
}

// describeProcess renders a process for comparison: a direct command as its words; a launcher
// process as its plan, "ENV | event: script | ...".
func describeProcess(t *testing.T, command []string, node, launcher string) string {
	t.Helper()
	if len(command) != 3 || command[0] != node || command[1] != launcher {
		return strings.Join(command, " ")
	}
	var plan launchPlan
	if err := json.Unmarshal([]byte(command[2]), &plan); err != nil {
		t.Fatalf("the launcher's plan %q: %v", command[2], err)
	}
	var env []string
	for k, v := range plan.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	var parts []string
	if len(env) > 0 {
		parts = append(parts, strings.Join(env, " "))
	}
	for _, st := range plan.Steps {
		parts = append(parts, st.Event+": "+st.Line)
	}
	return strings.Join(parts, " | ")
}
