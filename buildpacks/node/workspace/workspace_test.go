package workspace

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPatternsAndFind(t *testing.T) {
	tests := []struct {
		name      string
		raw       string // package.json "workspaces"
		files     map[string]string
		want      string // dirs, comma-separated
		wantErr   string
		wantNames string
	}{
		{name: "npm array", raw: `["packages/*", "apps/*"]`,
			files: map[string]string{"packages/a/package.json": `{"name":"a"}`, "apps/web/package.json": `{"name":"@x/web"}`, "apps/notes/README": ""},
			want:  "apps/web,packages/a", wantNames: "@x/web,a"},
		{name: "yarn classic object", raw: `{"packages": ["libs/**"], "nohoist": ["**/x"]}`,
			files: map[string]string{"libs/a/package.json": `{"name":"a"}`, "libs/deep/b/package.json": `{"name":"b"}`},
			want:  "libs/a,libs/deep/b", wantNames: "a,b"},
		{name: "node_modules and negations left out", raw: `["packages/**", "!packages/private"]`,
			files: map[string]string{"packages/a/package.json": `{}`, "packages/a/node_modules/dep/package.json": `{}`, "packages/private/package.json": `{}`},
			want:  "packages/a", wantNames: ""},
		{name: "pnpm-workspace.yaml", files: map[string]string{"pnpm-workspace.yaml": "packages:\n  - 'apps/*'\n", "apps/api/package.json": `{"name":"api"}`},
			want: "apps/api", wantNames: "api"},
		{name: "bad workspaces field", raw: `"packages/*"`, wantErr: `"workspaces" is neither a list of globs`},
		{name: "bad workspace package.json", raw: `["a"]`, files: map[string]string{"a/package.json": `{`}, wantErr: "workspace " + "ROOT/a/package.json is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, tt.files)
			pats, err := Patterns(root, json.RawMessage(tt.raw))
			var all []Workspace
			if err == nil {
				all, err = Find(root, pats)
			}
			if tt.wantErr != "" {
				want := strings.ReplaceAll(tt.wantErr, "ROOT", root)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var dirs, names []string
			for _, w := range all {
				dirs = append(dirs, w.Dir)
				if w.Name != "" {
					names = append(names, w.Name)
				}
			}
			if got := strings.Join(dirs, ","); got != tt.want {
				t.Errorf("dirs = %q, want %q", got, tt.want)
			}
			if got := strings.Join(names, ","); got != tt.wantNames {
				t.Errorf("names = %q, want %q", got, tt.wantNames)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	all := []Workspace{
		{Dir: "apps/admin", Name: "@x/admin"},
		{Dir: "apps/web", Name: "@x/web", Scripts: map[string]string{"start": "node server.js"}},
		{Dir: "packages/lib", Name: "@x/lib"},
	}
	twoStarters := append([]Workspace{{Dir: "apps/api", Name: "@x/api", Scripts: map[string]string{"start": "node ."}}}, all...)
	tests := []struct {
		name    string
		all     []Workspace
		setting string
		root    Root
		want    string // chosen dir, "" for none
		starts  bool
		script  string
		wantErr string
	}{
		{name: "setting by name", all: all, setting: "@x/admin", want: "apps/admin", starts: true, script: "start"},
		{name: "setting by dir", all: all, setting: "./apps/admin/", want: "apps/admin", starts: true, script: "start"},
		{name: "setting names nothing", all: all, setting: "apps/nope", wantErr: "BP_NODE_WORKSPACE=apps/nope names no workspace"},
		{name: "root start runs a workspace file", all: all, root: Root{Starts: true, Entry: "apps/web/server.js"}, want: "apps/web"},
		{name: "root start runs a root file", all: all, root: Root{Starts: true, Entry: "server.js"}},
		{name: "root start runs no file", all: all, root: Root{Starts: true}},
		{name: "root start delegates with npm", all: all, root: Root{Starts: true, Command: []string{"npm", "start", "-w", "apps/web"}}, want: "apps/web", starts: true, script: "start"},
		{name: "root start delegates with yarn", all: all, root: Root{Starts: true, Command: []string{"yarn", "workspace", "@x/web", "start"}}, want: "apps/web", starts: true, script: "start"},
		{name: "delegation to an unknown workspace", all: all, root: Root{Starts: true, Command: []string{"npm", "start", "--workspace=@x/nope"}}, wantErr: `names the workspace "@x/nope"`},
		{name: "delegation to a missing script", all: all, root: Root{Starts: true, Command: []string{"pnpm", "--filter", "@x/admin", "start"}}, wantErr: `runs the script "start", which apps/admin/package.json does not define`},
		{name: "the one workspace with a start script", all: all, want: "apps/web", starts: true, script: "start"},
		{name: "two workspaces with start scripts", all: twoStarters, wantErr: "several workspaces have one (apps/api (@x/api), apps/web (@x/web)): set BP_NODE_WORKSPACE"},
		{name: "no start anywhere", all: all[:1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Choose(tt.all, tt.setting, tt.root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Workspace.Dir; got != tt.want || c.Found != (tt.want != "") || c.Starts != tt.starts || c.Script != tt.script {
				t.Errorf("chose %q (found %v, starts %v, script %q), want %q (starts %v, script %q)", got, c.Found, c.Starts, c.Script, tt.want, tt.starts, tt.script)
			}
			if c.Why == "" {
				t.Errorf("no reason given")
			}
		})
	}
}

func TestDelegated(t *testing.T) {
	tests := []struct {
		cmd, ws, script string
	}{
		{"npm start -w apps/web", "apps/web", "start"},
		{"npm start --workspace=@x/web", "@x/web", "start"},
		{"npm run dev --workspace @x/web", "@x/web", "dev"},
		{"npm -w apps/web run-script serve", "apps/web", "serve"},
		{"yarn workspace @x/web start", "@x/web", "start"},
		{"yarn workspace @x/web run serve", "@x/web", "serve"},
		{"pnpm --filter @x/web start", "@x/web", "start"},
		{"pnpm -F @x/web run start", "@x/web", "start"},
		{"npm start", "", ""},
		{"npm run build -w a --if-present", "", ""},
		{"node server.js", "", ""},
		{"npm install -w a", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			d, ok := Delegated(strings.Fields(tt.cmd))
			if ok != (tt.ws != "") || d.Workspace != tt.ws || d.Script != tt.script {
				t.Errorf("Delegated(%q) = %+v, %v; want %q %q", tt.cmd, d, ok, tt.ws, tt.script)
			}
		})
	}
}
