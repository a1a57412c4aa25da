package node

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/testenv"
)

// treeFiles lists a tree's files and links (links as "path -> target").
func treeFiles(t *testing.T, root string) string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out = append(out, rel+" -> "+target)
		case !fi.IsDir():
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestKeepTools(t *testing.T) {
	pkgJSON := func(name, deps string) string {
		return `{"name":"` + name + `","bin":{"` + name + `":"cli.js"},"dependencies":{` + deps + `}}`
	}
	tests := []struct {
		name    string
		full    map[string]string // path -> content ("->target" for a link)
		prod    map[string]string
		cmds    []string
		want    string // files added to prod
		kept    string
		missing string
	}{
		{
			name: "hoisted (npm, yarn): package, nested and hoisted deps",
			full: map[string]string{
				"tsx/package.json": pkgJSON("tsx", `"esbuild":"*","get-tsconfig":"*"`), "tsx/cli.js": "#!/usr/bin/env node\n",
				"tsx/node_modules/esbuild/package.json": `{"name":"esbuild","optionalDependencies":{"@esbuild/linux-x64":"*"}}`,
				"@esbuild/linux-x64/package.json":       `{"name":"@esbuild/linux-x64"}`,
				"get-tsconfig/package.json":             `{"name":"get-tsconfig","dependencies":{"express":"*"}}`,
				"express/package.json":                  `{"name":"express"}`,
				"typescript/package.json":               `{"name":"typescript","bin":{"tsc":"bin/tsc"}}`,
			},
			prod: map[string]string{"express/package.json": `{"name":"express"}`},
			cmds: []string{"tsx"},
			want: ".bin/tsx -> ../tsx/cli.js\n@esbuild/linux-x64/package.json\nexpress/package.json\nget-tsconfig/package.json\ntsx/cli.js\ntsx/node_modules/esbuild/package.json\ntsx/package.json",
			kept: "tsx:tsx:3",
		},
		{
			name: "pnpm: links into .pnpm followed",
			full: map[string]string{
				"tsx": "->.pnpm/tsx@4.19.2/node_modules/tsx",
				".pnpm/tsx@4.19.2/node_modules/tsx/package.json": pkgJSON("tsx", `"esbuild":"*"`), ".pnpm/tsx@4.19.2/node_modules/tsx/cli.js": "",
				".pnpm/tsx@4.19.2/node_modules/esbuild":                  "->../../esbuild@0.23.1/node_modules/esbuild",
				".pnpm/esbuild@0.23.1/node_modules/esbuild/package.json": `{"name":"esbuild"}`,
			},
			cmds: []string{"tsx", "nosuch"},
			want: ".bin/tsx -> ../tsx/cli.js\n.pnpm/esbuild@0.23.1/node_modules/esbuild/package.json\n.pnpm/tsx@4.19.2/node_modules/esbuild -> ../../esbuild@0.23.1/node_modules/esbuild\n.pnpm/tsx@4.19.2/node_modules/tsx/cli.js\n.pnpm/tsx@4.19.2/node_modules/tsx/package.json\ntsx -> .pnpm/tsx@4.19.2/node_modules/tsx",
			kept: "tsx:tsx:2", missing: "nosuch",
		},
		{
			name: "already in production",
			full: map[string]string{"next/package.json": pkgJSON("next", "")},
			prod: map[string]string{"next/package.json": pkgJSON("next", ""), ".bin/next": "->../next/cli.js"},
			cmds: []string{"next"},
			want: ".bin/next -> ../next/cli.js\nnext/package.json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full, prod := filepath.Join(t.TempDir(), "full"), filepath.Join(t.TempDir(), "prod")
			for root, files := range map[string]map[string]string{full: tt.full, prod: tt.prod} {
				os.MkdirAll(root, 0o755)
				for p, c := range files {
					dst := filepath.Join(root, p)
					os.MkdirAll(filepath.Dir(dst), 0o755)
					if strings.HasPrefix(c, "->") {
						os.Symlink(strings.TrimPrefix(c, "->"), dst)
					} else {
						testenv.WriteFile(t, dst, c)
					}
				}
			}
			kept, missing, err := keepTools(full, prod, tt.cmds)
			if err != nil {
				t.Fatal(err)
			}
			var k []string
			for _, x := range kept {
				k = append(k, x.Command+":"+x.Package+":"+itoa(x.Packages))
			}
			if strings.Join(k, ",") != tt.kept || strings.Join(missing, ",") != tt.missing {
				t.Errorf("kept %v, missing %v; want %q, %q", k, missing, tt.kept, tt.missing)
			}
			if got := treeFiles(t, prod); got != tt.want {
				t.Errorf("prod tree:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestDevCommands(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteFile(t, filepath.Join(dir, "package-lock.json"), `{"lockfileVersion":3,"packages":{"":{},"node_modules/typescript":{"dev":true,"bin":{"tsc":"bin/tsc"}},"node_modules/next":{"bin":{"next":"dist/bin/next"}},"node_modules/a/node_modules/x":{"dev":true,"bin":{"x":"x.js"}}}}`)
	pkg, err := parsePackageJSON("package.json", []byte(`{"dependencies":{"next":"*"},"devDependencies":{"tsx":"*","typescript":"*"}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := devCommands(dir, pkg, []string{"next", "tsc", "tsx", "x", "nodemon"})
	if strings.Join(got, ",") != "tsc,tsx" {
		t.Errorf("devCommands = %v, want tsc, tsx", got)
	}
}

func TestRootInstallScripts(t *testing.T) {
	pkg, _ := parsePackageJSON("package.json", []byte(`{"scripts":{"postinstall":"tsc","prepare":"husky","preprepare":"x","build":"tsc","start":"node ."}}`))
	if got := strings.Join(pkg.rootInstallScripts(PMNpm), ","); got != "postinstall,preprepare,prepare" {
		t.Errorf("npm: %s", got)
	}
	if got := strings.Join(withoutHooks(pkg.rootInstallScripts(PMNpm)), ","); got != "postinstall,prepare" {
		t.Errorf("withoutHooks: %s", got)
	}
	if got := strings.Join(pkg.rootInstallScripts(PMBerry), ","); got != "postinstall" {
		t.Errorf("berry: %s", got)
	}
}
