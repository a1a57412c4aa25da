package node

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"

	"github.com/distill-build/distill/buildpacks/node/workspace"
)

func TestNodeEntry(t *testing.T) {
	tests := []struct {
		argv string
		want string
	}{
		{"node apps/web/server.js", "apps/web/server.js"},
		{"node ./apps/web/server.js --port 3000", "apps/web/server.js"},
		{"node --enable-source-maps -r dotenv/config dist/main.js", "dist/main.js"},
		{"node --require ./.pnp.cjs server.mjs", "server.mjs"},
		{"nodejs index.js", "index.js"},
		{"node", ""},
		{"next start", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.argv, func(t *testing.T) {
			if got := nodeEntry(strings.Fields(tt.argv)); got != tt.want {
				t.Errorf("nodeEntry(%q) = %q, want %q", tt.argv, got, tt.want)
			}
		})
	}
}

func TestStartCommandsForWorkspace(t *testing.T) {
	app := t.TempDir()
	testenv.WriteFile(t, filepath.Join(app, "package.json"), `{"workspaces":["apps/*"],"scripts":{"start":"npm start -w apps/web"}}`)
	testenv.WriteFile(t, filepath.Join(app, "apps", "web", "package.json"), `{"name":"@x/web","scripts":{"start":"node server.js","serve":"node serve.js","prestart":"node gen.js"}}`)
	web := workspace.Workspace{Dir: "apps/web", Name: "@x/web"}
	tests := []struct {
		name    string
		choice  workspace.Choice
		command string
		dir     string
		source  string
		pre     string
	}{
		{name: "root", command: "npm start -w apps/web", dir: app, source: "package.json scripts.start"},
		{name: "workspace start with its hooks", choice: workspace.Choice{Workspace: web, Found: true, Starts: true, Script: "start"},
			command: "node server.js", dir: filepath.Join(app, "apps", "web"), source: "apps/web package.json scripts.start", pre: "node gen.js"},
		{name: "workspace script a hand-over names", choice: workspace.Choice{Workspace: web, Found: true, Starts: true, Script: "serve"},
			command: "node serve.js", dir: filepath.Join(app, "apps", "web"), source: "apps/web package.json scripts.serve"},
		{name: "found but the root starts", choice: workspace.Choice{Workspace: web, Found: true},
			command: "npm start -w apps/web", dir: app, source: "package.json scripts.start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkg, _, err := readPackageJSON(app)
			if err != nil {
				t.Fatal(err)
			}
			r := &buildRun{appDir: app, pkg: pkg, hasPkg: true, ws: workspaces{choice: tt.choice}}
			cmds, err := r.startCommands()
			if err != nil {
				t.Fatal(err)
			}
			if len(cmds) != 1 {
				t.Fatalf("got %d commands", len(cmds))
			}
			c := cmds[0]
			if c.Command != tt.command || c.Dir != tt.dir || c.Source != tt.source || c.Pre != tt.pre {
				t.Errorf("got %+v\nwant command %q dir %q source %q prestart %q", c, tt.command, tt.dir, tt.source, tt.pre)
			}
		})
	}
}
