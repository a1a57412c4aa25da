package golang

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

func TestResolveTargets(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		env     string
		module  string
		want    []target
		wantErr string
	}{
		{
			name:   "root main package",
			files:  map[string]string{"main.go": "package main\n", "main_test.go": "package main_test\n"},
			module: "example.com/hello",
			want:   []target{{".", "hello"}},
		},
		{
			name:   "root main with major suffix",
			files:  map[string]string{"main.go": "package main\n"},
			module: "example.com/tool/v2",
			want:   []target{{".", "tool"}},
		},
		{
			name: "cmd dirs",
			files: map[string]string{
				"lib.go": "package lib\n", "cmd/worker/main.go": "package main\n", "cmd/server/main.go": "// doc\npackage main\n",
				"cmd/notmain/x.go": "package notmain\n", "cmd/onlytest/x_test.go": "package main\n",
			},
			module: "example.com/lib",
			want:   []target{{"./cmd/server", "server"}, {"./cmd/worker", "worker"}},
		},
		{
			name:    "nothing to build",
			files:   map[string]string{"lib.go": "package lib\n"},
			module:  "example.com/lib",
			wantErr: "set BP_GO_TARGETS",
		},
		{
			name:   "BP_GO_TARGETS",
			files:  map[string]string{"main.go": "package main\n"},
			env:    "./cmd/server: cmd/worker/ :",
			module: "example.com/x",
			want:   []target{{"./cmd/server", "server"}, {"./cmd/worker", "worker"}},
		},
		{
			name:   "BP_GO_TARGETS dot",
			env:    ".",
			module: "example.com/x",
			want:   []target{{".", "x"}},
		},
		{name: "BP_GO_TARGETS absolute", env: "/src/cmd", wantErr: "relative"},
		{name: "BP_GO_TARGETS escapes", env: "../other", wantErr: "outside"},
		{name: "BP_GO_TARGETS duplicate names", env: "./a/server:./b/server", wantErr: `binary named "server"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tt.files {
				testenv.WriteFile(t, filepath.Join(dir, n), c)
			}
			got, err := resolveTargets(dir, tt.env, tt.module)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBuildFlags(t *testing.T) {
	tests := []struct {
		name     string
		flags    string
		ldflags  string
		vendored bool
		want     []string
		wantErr  string
	}{
		{name: "defaults", want: []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}},
		{name: "vendored", vendored: true, want: []string{"-trimpath", "-buildvcs=false", "-mod=vendor", "-ldflags=-s -w"}},
		{name: "ldflags env replaces default", ldflags: "-X main.version=1.2.3", want: []string{"-trimpath", "-buildvcs=false", "-ldflags=-X main.version=1.2.3"}},
		{
			name:  "build flags shell split",
			flags: `-tags "netgo osusergo" -race`,
			want:  []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags", "netgo osusergo", "-race"},
		},
		{name: "user ldflags in build flags win", flags: `-ldflags="-X a.b=c"`, want: []string{"-trimpath", "-buildvcs=false", "-ldflags=-X a.b=c"}},
		{name: "user trimpath/buildvcs/mod kept", flags: "-trimpath=false -buildvcs=true -mod=mod", vendored: true, want: []string{"-ldflags=-s -w", "-trimpath=false", "-buildvcs=true", "-mod=mod"}},
		{name: "both ldflags", flags: "-ldflags=-s", ldflags: "-w", wantErr: "BP_GO_BUILD_LDFLAGS"},
		{name: "bad quoting", flags: `-tags "unterminated`, wantErr: "BP_GO_BUILD_FLAGS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildFlags(tt.flags, tt.ldflags, tt.vendored)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
