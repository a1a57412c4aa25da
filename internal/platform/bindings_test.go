package platform

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadBindings(t *testing.T) {
	// write creates files (path → content) under a fresh directory; a
	// content starting with "->" makes a symlink instead.
	write := func(t *testing.T, files map[string]string) string {
		root := t.TempDir()
		for p, content := range files {
			full := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			var err error
			if target, ok := strings.CutPrefix(content, "->"); ok {
				err = os.Symlink(target, full)
			} else {
				err = os.WriteFile(full, []byte(content), 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string // relative to the root; default: the root
		want  string   // name(type):file,file;...
		err   string
	}{
		{name: "one binding", files: map[string]string{"npm/type": "npmrc\n", "npm/.npmrc": "//r/:_authToken=x"}, args: []string{"npm"}, want: "npm(npmrc):.npmrc"},
		{name: "a root of bindings", files: map[string]string{"a/type": "pip", "a/index-url": "u", "b/type": "netrc", "b/.netrc": "n", "notes/readme": "not a binding"}, want: "a(pip):index-url;b(netrc):.netrc"},
		{name: "a Kubernetes secret volume", files: map[string]string{"git/..data/type": "git-credentials", "git/..data/credentials": "c", "git/type": "->..data/type", "git/credentials": "->..data/credentials"}, args: []string{"git"}, want: "git(git-credentials):credentials"},
		{name: "provider kept as a file", files: map[string]string{"db/type": "postgresql", "db/provider": "acme", "db/password": "p"}, args: []string{"db"}, want: "db(postgresql):password,provider"},
		{name: "no type", files: map[string]string{"x/token": "t"}, args: []string{"x"}, err: "holds no type file"},
		{name: "empty type", files: map[string]string{"x/type": " \n"}, args: []string{"x"}, err: "the type file is empty"},
		{name: "bad name", files: map[string]string{"My_Binding/type": "npmrc"}, args: []string{"My_Binding"}, err: "binding names are lower-case"},
		{name: "same name twice", files: map[string]string{"one/npm/type": "npmrc", "two/npm/type": "npmrc"}, args: []string{"one/npm", "two"}, err: `both bindings named "npm"`},
		{name: "a file", files: map[string]string{"f": "x"}, args: []string{"f"}, err: "is not a directory"},
		{name: "missing", files: map[string]string{}, args: []string{"nope"}, err: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := write(t, tc.files)
			args := []string{root}
			if tc.args != nil {
				args = nil
				for _, a := range tc.args {
					args = append(args, filepath.Join(root, a))
				}
			}
			got, err := readBindings(args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, b := range got {
				var files []string
				for f := range b.Files {
					files = append(files, f)
				}
				slices.Sort(files)
				parts = append(parts, b.Name+"("+b.Type+"):"+strings.Join(files, ","))
			}
			if s := strings.Join(parts, ";"); s != tc.want {
				t.Errorf("readBindings = %s, want %s", s, tc.want)
			}
		})
	}
}
