package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// TestTraceArgv reads what a start command runs: the entries the trace starts from, the packages
// kept whole, or why the command cannot be traced.
func TestTraceArgv(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{
		"server.js": "", "dist/main.mjs": "", "preload.cjs": "",
		"node_modules/dotenv/package.json": `{"name":"dotenv"}`,
		"node_modules/tool/package.json":   `{"name":"tool"}`,
		"node_modules/tool/cli.js":         "#!/usr/bin/env node\n",
	})
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", ".bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../tool/cli.js", filepath.Join(dir, "node_modules", ".bin", "tool")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		argv    string
		entries string // relative to dir, comma-separated
		whole   string
		why     string
	}{
		{argv: "node server.js --port 8080", entries: "server.js"},
		{argv: "node dist/main", entries: "dist/main.mjs"},
		{argv: "exec node --enable-source-maps -r ./preload.cjs --require=dotenv/config server.js", entries: "preload.cjs,server.js", whole: "node_modules/dotenv"},
		{argv: "tool serve", entries: "node_modules/tool/cli.js", whole: "node_modules/tool"},
		{argv: "echo starting"},
		{argv: "node -e console.log(1)", why: "code given on the command line"},
		{argv: "node $ENTRY", why: "is a variable"},
		{argv: "node missing.js", why: "not a file after the build"},
		{argv: "python app.py", why: "not node or a node_modules/.bin command"},
		{argv: "node", why: "no script file"},
	}
	for _, tt := range tests {
		t.Run(tt.argv, func(t *testing.T) {
			entries, whole, why := traceArgv(dir, strings.Fields(tt.argv))
			if tt.why != "" || why != "" {
				if tt.why == "" || !strings.Contains(why, tt.why) {
					t.Fatalf("why = %q, want %q", why, tt.why)
				}
				return
			}
			var gotE, gotW []string
			for _, e := range entries {
				gotE = append(gotE, relTo(dir, e))
			}
			for _, w := range whole {
				gotW = append(gotW, relTo(dir, w.Dir))
			}
			if strings.Join(gotE, ",") != tt.entries || strings.Join(gotW, ",") != tt.whole {
				t.Errorf("entries %v whole %v, want %s / %s", gotE, gotW, tt.entries, tt.whole)
			}
		})
	}
}
