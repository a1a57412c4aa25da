package node

import (
	"strings"
	"testing"
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
