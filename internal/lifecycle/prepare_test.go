package lifecycle

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		rel      string
		want     bool
	}{
		{[]string{"*.md"}, "README.md", true},
		{[]string{"*.md"}, "docs/guide.md", true},
		{[]string{"/docs"}, "docs/guide.md", true},
		{[]string{"/docs"}, "src/docs/x", false},
		{[]string{"node_modules/"}, "web/node_modules/a/b.js", true},
		{[]string{"cmd/**/*.go"}, "cmd/server/main.go", true},
		{[]string{"*.go"}, "go.mod", false},
	} {
		if got := matches(tc.patterns, tc.rel); got != tc.want {
			t.Errorf("matches(%v, %q) = %v, want %v", tc.patterns, tc.rel, got, tc.want)
		}
	}
}

func TestReadProjectAndCopy(t *testing.T) {
	for _, tc := range []struct {
		name, project string
		want          []string
		wantEnv       map[string]string
		wantMaxSize   string
		wantErr       string
	}{
		{name: "no project.toml", want: []string{"README.md", "go.mod", "main.go", "secret/key"}},
		{
			name:    "schema 0.2 exclude and env",
			project: "[_]\nschema-version = \"0.2\"\n[io.buildpacks]\nexclude = [\"secret\", \"*.md\"]\n[[io.buildpacks.build.env]]\nname = \"BP_GO_TARGETS\"\nvalue = \"./cmd/x\"\n",
			want:    []string{"go.mod", "main.go"}, wantEnv: map[string]string{"BP_GO_TARGETS": "./cmd/x"},
		},
		{
			name:    "schema 0.1 include",
			project: "[build]\ninclude = [\"*.go\", \"go.mod\"]\n",
			want:    []string{"go.mod", "main.go"},
		},
		{
			name:    "distill size budget",
			project: "[_]\nschema-version = \"0.2\"\n[io.distill.build]\nmax-size = \"50MB\"\n",
			want:    []string{"README.md", "go.mod", "main.go", "secret/key"}, wantMaxSize: "50MB",
		},
		{name: "both", project: "[build]\ninclude = [\"a\"]\nexclude = [\"b\"]\n", wantErr: "not both"},
		{name: "bad toml", project: "[build\n", wantErr: "project.toml"},
		{name: "env without a name", project: "[[build.env]]\nvalue = \"x\"\n", wantErr: "project.toml: build env: a variable has no name"},
		{name: "env name leaving the platform dir", project: "[[build.env]]\nname = \"../../../../tmp/x\"\nvalue = \"x\"\n",
			wantErr: "project.toml: build env: \"../../../../tmp/x\" is not a variable name"},
		{name: "env name with =", project: "[[io.buildpacks.build.env]]\nname = \"A=B\"\n", wantErr: "is not a variable name"},
		{name: "bad pattern", project: "[build]\nexclude = [\"[\"]\n", wantErr: "invalid include/exclude pattern \"[\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			for _, f := range []string{"README.md", "go.mod", "main.go", "secret/key"} {
				p := filepath.Join(src, f)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.project != "" {
				os.WriteFile(filepath.Join(src, "project.toml"), []byte(tc.project), 0o644)
			}
			pr, err := ReadProject(src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pr.MaxSize != tc.wantMaxSize {
				t.Errorf("MaxSize = %q, want %q", pr.MaxSize, tc.wantMaxSize)
			}
			for k, v := range tc.wantEnv {
				if pr.Env[k] != v {
					t.Errorf("env %s = %q, want %q", k, pr.Env[k], v)
				}
			}
			dst := t.TempDir()
			if err := copyApp(src, dst, pr, nil, os.Getuid(), os.Getgid()); err != nil {
				t.Fatal(err)
			}
			var got []string
			filepath.Walk(dst, func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() {
					rel, _ := filepath.Rel(dst, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return nil
			})
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("copied %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPlatformEnvConfined: no env name or binding name given to Build
// writes outside the platform directory; the build fails naming it.
func TestPlatformEnvConfined(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "escaped")
	for _, tc := range []struct {
		name     string
		env      map[string]string
		bindings []Binding
		wantErr  string
	}{
		{name: "env", env: map[string]string{"../../../../../../.." + outside: "x"}, wantErr: "build env: "},
		{name: "binding name", bindings: []Binding{{Name: "../../../../../../.." + outside, Type: "t"}}, wantErr: "service binding "},
		{name: "binding file", bindings: []Binding{{Name: "b", Type: "t", Files: map[string][]byte{"../../../../../../.." + outside: nil}}}, wantErr: "is not a file name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := buildOptions(t, shellBuildpack(t), sampleApp(t), Layout{}, &recorder{})
			o.Env, o.Bindings = tc.env, tc.bindings
			if _, err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if _, err := os.Lstat(outside); !os.IsNotExist(err) {
				t.Fatalf("%s was written (%v)", outside, err)
			}
		})
	}
}

// FuzzParseProject: ParseProject never panics; an error names the file; a
// project it accepts sets include or exclude (not both), valid patterns
// that match paths without panicking, and env names that stay file names
// inside /platform/env. Seeds: testdata/fuzz/FuzzParseProject.
func FuzzParseProject(f *testing.F) {
	for _, s := range []string{
		"[_]\nschema-version = \"0.2\"\n[io.buildpacks]\nexclude = [\"secret\", \"*.md\"]\n[[io.buildpacks.build.env]]\nname = \"BP_GO_TARGETS\"\nvalue = \"./cmd/x\"\n",
		"[build]\ninclude = [\"*.go\", \"/go.mod\", \"cmd/**\"]\n[[build.env]]\nname = \"A\"\nvalue = \"1\"\n",
		"[[build.env]]\nname = \"..\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		const p = "/app/project.toml"
		pr, err := ParseProject(p, []byte(content))
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name %s", err, p)
			}
			return
		}
		if len(pr.Include) > 0 && len(pr.Exclude) > 0 {
			t.Fatalf("accepted include %q and exclude %q", pr.Include, pr.Exclude)
		}
		for name := range pr.Env {
			if CheckEnvName(name) != nil || filepath.Join("/platform/env", name) != "/platform/env/"+name {
				t.Fatalf("accepted env name %q", name)
			}
		}
		for _, rel := range []string{"a", "a/b.go", "node_modules/x/y", ".env"} {
			matches(pr.Include, rel)
			matches(pr.Exclude, rel)
		}
	})
}
