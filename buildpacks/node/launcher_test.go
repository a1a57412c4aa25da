package node

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// TestLauncherSyntaxNode12 keeps launch.js and signals.js to what Node.js 12 (the oldest line an app may pin)
// parses and provides: it runs on the app's own node, at launch.
func TestLauncherSyntaxNode12(t *testing.T) {
	forbidden := []struct{ re, what string }{
		{`\?\?`, "?? (Node.js 14)"},
		{`\?\.[^0-9]`, "?. (Node.js 14)"},
		{`\|\|=|&&=`, "logical assignment (Node.js 15)"},
		{`\.replaceAll\(`, "String.prototype.replaceAll (Node.js 15)"},
		{`\.at\(`, "Array.prototype.at (Node.js 16.6)"},
		{`Object\.hasOwn\(`, "Object.hasOwn (Node.js 16.9)"},
		{`structuredClone|AbortController`, "Node.js 15+ globals"},
		{`\.findLast(Index)?\(`, "findLast (Node.js 18)"},
	}
	for file, src := range map[string][]byte{"launcher/launch.js": launcherJS, "launcher/signals.js": signalsJS} {
		for n, line := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			for _, f := range forbidden {
				if regexp.MustCompile(f.re).MatchString(line) {
					t.Errorf("%s:%d uses %s: %s", file, n+1, f.what, strings.TrimSpace(line))
				}
			}
		}
	}
}

// TestLauncherSteps runs launch.js with a plan of steps as the default process of an app with npm start hooks:
// each step in the app directory with npm_lifecycle_event set, stopping at the first failure.
func TestLauncherSteps(t *testing.T) {
	testenv.Slow(t, "runs the launcher under node once per step list")
	node := requireNode(t)
	dir := t.TempDir()
	launcher := filepath.Join(dir, LauncherFile)
	testenv.WriteFile(t, launcher, string(launcherJS))
	app := filepath.Join(dir, "app")
	testenv.WriteFile(t, filepath.Join(app, "show.js"), "console.log(process.env.npm_lifecycle_event, process.env.npm_package_name || '-', process.cwd().endsWith('sub') ? 'sub' : 'app')\n")
	testenv.WriteFile(t, filepath.Join(app, "sub", "keep"), "")
	tests := []struct {
		name  string
		env   map[string]string
		steps [][2]string // event, script
		want  string
		code  int
	}{
		{name: "pre, main, post", env: map[string]string{"npm_package_name": "demo"}, steps: [][2]string{{"prestart", "node show.js"}, {"start", "node show.js"}, {"poststart", "node show.js"}},
			want: "prestart demo app\nstart demo app\npoststart demo app\n"},
		{name: "failing prestart stops", steps: [][2]string{{"prestart", "node show.js && exit 3"}, {"start", "node show.js"}}, want: "prestart - app\n", code: 3},
		{name: "cd stays in its step", steps: [][2]string{{"prestart", "cd sub && node ../show.js"}, {"start", "node show.js"}}, want: "prestart - sub\nstart - app\n"},
		{name: "or-list inside a step", steps: [][2]string{{"prestart", "false || true"}, {"start", "node show.js"}}, want: "start - app\n"},
		{name: "and-list failing inside a step", steps: [][2]string{{"prestart", "false && true || false"}, {"start", "node show.js"}}, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := launchPlan{Env: tt.env}
			for _, st := range tt.steps {
				parsed, err := parseScript("test", st[1])
				if err != nil {
					t.Fatal(err)
				}
				plan.Steps = append(plan.Steps, launchStep{Event: st[0], Line: st[1], Script: parsed})
			}
			data, err := encodePlan(plan)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(node, launcher, data)
			cmd.Dir = app
			cmd.Env = append(os.Environ(), "npm_lifecycle_event=", "npm_package_name=")
			out, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || (tt.want != "" && string(out) != tt.want) {
				t.Errorf("exit %d, output %q; want %d, %q", code, out, tt.code, tt.want)
			}
		})
	}
}
