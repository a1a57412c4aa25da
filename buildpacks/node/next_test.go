package node

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestRunsNextBuild(t *testing.T) {
	tests := []struct {
		scripts map[string]string
		run     []string
		want    bool
	}{
		{map[string]string{"build": "next build"}, []string{"build"}, true},
		{map[string]string{"build": "next build --turbopack"}, []string{"build"}, true},
		{map[string]string{"build": "prisma generate && next build"}, []string{"build"}, true},
		{map[string]string{"build": "NODE_OPTIONS=--max-old-space-size=4096 next build"}, []string{"build"}, true},
		{map[string]string{"build": "tsc", "next": "next build"}, []string{"build"}, false},
		{map[string]string{"build": "next lint"}, []string{"build"}, false},
		{map[string]string{"build": "vite build"}, []string{"build"}, false},
	}
	for _, tt := range tests {
		if got := runsNextBuild(tt.scripts, tt.run); got != tt.want {
			t.Errorf("runsNextBuild(%v, %v) = %v, want %v", tt.scripts, tt.run, got, tt.want)
		}
	}
}

func TestStartsNext(t *testing.T) {
	start := func(cmd string) startCommand {
		return startCommand{Type: "web", Command: cmd, Source: "package.json scripts.start"}
	}
	tests := []struct {
		name string
		cmds []startCommand
		want bool
	}{
		{"no start command", nil, true},
		{"next start", []startCommand{start("next start")}, true},
		{"next start with a port", []startCommand{start("next start -p $PORT")}, true},
		{"custom server", []startCommand{start("node server.js")}, false},
		{"Procfile", []startCommand{{Type: "web", Command: "next start", Source: "Procfile"}}, false},
		{"prestart hook", []startCommand{{Type: "web", Command: "next start", Source: "package.json scripts.start", Pre: "node migrate.js"}}, false},
		{"two commands", []startCommand{start("node migrate.js && next start")}, false},
	}
	for _, tt := range tests {
		if got := startsNext(tt.cmds); got != tt.want {
			t.Errorf("%s: startsNext = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFindNextOutput(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    nextOutput // DistDir relative to the app
		wantErr string
	}{
		{"standalone", map[string]string{".next/required-server-files.json": `{"config":{"output":"standalone","distDir":".next"}}`}, nextOutput{DistDir: ".next", Output: "standalone"}, ""},
		{"distDir", map[string]string{"build/required-server-files.json": `{"config":{"output":"standalone"}}`, "node_modules/x/required-server-files.json": `{}`}, nextOutput{DistDir: "build", Output: "standalone"}, ""},
		{"no output", map[string]string{".next/required-server-files.json": `{"config":{}}`}, nextOutput{DistDir: ".next"}, ""},
		{"not built", map[string]string{"app/page.js": ``}, nextOutput{}, "next build wrote no required-server-files.json"},
		{"malformed", map[string]string{".next/required-server-files.json": `{`}, nextOutput{}, "is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, tt.files)
			got, err := findNextOutput(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.DistDir = filepath.Join(dir, tt.want.DistDir); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStandaloneServer(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		want    string
		wantErr bool
	}{
		{"app at the root", []string{"server.js", ".next/required-server-files.json", "node_modules/next/server.js"}, "server.js", false},
		{"monorepo", []string{"node_modules/x/server.js", "apps/web/server.js", "apps/web/.next/required-server-files.json"}, "apps/web/server.js", false},
		{"no server", []string{".next/required-server-files.json"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for _, f := range tt.files {
				files[f] = "{}"
			}
			testenv.WriteFiles(t, dir, files)
			got, err := standaloneServer(dir, ".next")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != filepath.Join(dir, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestExportServed(t *testing.T) {
	tests := []struct {
		name    string
		app     nextApp
		wantErr string
	}{
		{"next start", nextApp{Dir: "/workspace", NextStart: true}, "sets output: 'export', which `next start`"},
		{"no start command", nextApp{Dir: "/workspace"}, ""},
	}
	for _, tt := range tests {
		err := exportServed(&tt.app)
		if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
