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

// TestLauncherSyntaxNode12 keeps launch.js to what Node.js 12 (the oldest line an app may pin)
// parses and provides: it runs on the app's own node, at build time (--parse) and at launch.
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
	for n, line := range strings.Split(string(launcherJS), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "//") {
			continue
		}
		for _, f := range forbidden {
			if regexp.MustCompile(f.re).MatchString(line) {
				t.Errorf("launcher/launch.js:%d uses %s: %s", n+1, f.what, strings.TrimSpace(line))
			}
		}
	}
}

// TestLauncherSteps runs launch.js --run as the default process of an app with npm start hooks:
// each step in the app directory with npm_lifecycle_event set, stopping at the first failure.
func TestLauncherSteps(t *testing.T) {
	testenv.Slow(t, "runs the launcher under node once per step list")
	node := requireNode(t)
	dir := t.TempDir()
	launcher := filepath.Join(dir, LauncherFile)
	writeFile(t, launcher, string(launcherJS))
	app := filepath.Join(dir, "app")
	writeFile(t, filepath.Join(app, "show.js"), "console.log(process.env.npm_lifecycle_event, process.env.npm_package_name || '-', process.cwd().endsWith('sub') ? 'sub' : 'app')\n")
	writeFile(t, filepath.Join(app, "sub", "keep"), "")
	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{name: "pre, main, post", args: []string{"--set", "npm_package_name=demo", "--run", "prestart", "node show.js", "--run", "start", "node show.js", "--run", "poststart", "node show.js"},
			want: "prestart demo app\nstart demo app\npoststart demo app\n"},
		{name: "failing prestart stops", args: []string{"--run", "prestart", "node show.js && exit 3", "--run", "start", "node show.js"}, want: "prestart - app\n", code: 3},
		{name: "cd stays in its step", args: []string{"--run", "prestart", "cd sub && node ../show.js", "--run", "start", "node show.js"}, want: "prestart - sub\nstart - app\n"},
		{name: "or-list inside a step", args: []string{"--run", "prestart", "false || true", "--run", "start", "node show.js"}, want: "start - app\n"},
		{name: "and-list failing inside a step", args: []string{"--run", "prestart", "false && true || false", "--run", "start", "node show.js"}, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(node, append([]string{launcher}, tt.args...)...)
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
