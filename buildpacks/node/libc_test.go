package node

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLibcMatches(t *testing.T) {
	tests := []struct {
		field []string
		libc  string
		want  bool
	}{
		{nil, "glibc", true},
		{[]string{"glibc"}, "glibc", true},
		{[]string{"musl"}, "glibc", false},
		{[]string{"musl"}, "musl", true},
		{[]string{"glibc", "musl"}, "glibc", true},
		{[]string{"!musl"}, "glibc", true},
		{[]string{"!glibc"}, "glibc", false},
		{[]string{"!glibc"}, "musl", true},
		{[]string{"!musl", "glibc"}, "glibc", true},
		{[]string{"!musl", "glibc"}, "bionic", false},
	}
	for _, tt := range tests {
		if got := libcMatches(tt.field, tt.libc); got != tt.want {
			t.Errorf("libcMatches(%q, %q) = %v, want %v", tt.field, tt.libc, got, tt.want)
		}
	}
}

func TestRemoveForeignLibc(t *testing.T) {
	tests := []struct {
		name    string
		pkgs    map[string]string // dir under the root -> package.json
		removed []string          // the names removeForeignLibc returns
		gone    []string          // dirs that must be gone
		kept    []string          // dirs that must stay
	}{
		{
			name: "npm and Yarn classic trees",
			pkgs: map[string]string{
				"@next/swc-linux-x64-gnu":                     `{"name":"@next/swc-linux-x64-gnu","libc":["glibc"]}`,
				"@next/swc-linux-x64-musl":                    `{"name":"@next/swc-linux-x64-musl","libc":["musl"]}`,
				"@img/sharp-linuxmusl-x64":                    `{"name":"@img/sharp-linuxmusl-x64","libc":["musl"]}`,
				"@img/sharp-libvips-linuxmusl-x64":            `{"name":"@img/sharp-libvips-linuxmusl-x64","libc":"musl"}`,
				"@img/sharp-linux-x64":                        `{"name":"@img/sharp-linux-x64","libc":["glibc"]}`,
				"sharp":                                       `{"name":"sharp"}`,
				"sharp/node_modules/@img/sharp-linuxmusl-x64": `{"name":"@img/sharp-linuxmusl-x64","libc":["musl"]}`,
				"not-glibc":                                   `{"name":"not-glibc","libc":["!glibc"]}`,
				"broken":                                      `{"name":`,
			},
			removed: []string{"@img/sharp-libvips-linuxmusl-x64", "@img/sharp-linuxmusl-x64", "@img/sharp-linuxmusl-x64", "@next/swc-linux-x64-musl", "not-glibc"},
			gone:    []string{"@next/swc-linux-x64-musl", "@img/sharp-linuxmusl-x64", "@img/sharp-libvips-linuxmusl-x64", "sharp/node_modules/@img/sharp-linuxmusl-x64", "not-glibc"},
			kept:    []string{"@next/swc-linux-x64-gnu", "@img/sharp-linux-x64", "sharp", "broken"},
		},
		{
			name: "pnpm store",
			pkgs: map[string]string{
				".pnpm/@img+sharp-linuxmusl-x64@0.34.5/node_modules/@img/sharp-linuxmusl-x64": `{"name":"@img/sharp-linuxmusl-x64","libc":["musl"]}`,
				".pnpm/@img+sharp-linux-x64@0.34.5/node_modules/@img/sharp-linux-x64":         `{"name":"@img/sharp-linux-x64","libc":["glibc"]}`,
			},
			removed: []string{"@img/sharp-linuxmusl-x64"},
			gone:    []string{".pnpm/@img+sharp-linuxmusl-x64@0.34.5/node_modules/@img/sharp-linuxmusl-x64"},
			kept:    []string{".pnpm/@img+sharp-linux-x64@0.34.5/node_modules/@img/sharp-linux-x64"},
		},
		{name: "no node_modules", pkgs: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "node_modules")
			for dir, pj := range tt.pkgs {
				if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, dir, "package.json"), []byte(pj), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			removed, err := removeForeignLibc(root, "glibc")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(removed, tt.removed) {
				t.Errorf("removed %q, want %q", removed, tt.removed)
			}
			for _, k := range tt.kept {
				if !fileExists(filepath.Join(root, k, "package.json")) {
					t.Errorf("%s was removed", k)
				}
			}
			for _, g := range tt.gone {
				if fileExists(filepath.Join(root, g)) {
					t.Errorf("%s is still there", g)
				}
			}
		})
	}
}
