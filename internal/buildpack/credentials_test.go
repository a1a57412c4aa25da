package buildpack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/buildpacks/libcnb/v2"
)

func TestCredentialEnv(t *testing.T) {
	root := t.TempDir()
	// binding writes a binding as a platform does and reads it back as libcnb does.
	binding := func(name, typ, file string) libcnb.Binding {
		dir := filepath.Join(root, name)
		for n, content := range map[string]string{"type": typ, file: "secret\n"} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, n), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		b, err := libcnb.NewBindingFromPath(dir)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	git := func(name string) libcnb.Binding { return binding(name, "git-credentials", "credentials") }
	netrc := func(name string) libcnb.Binding { return binding(name, "NetRC", ".netrc") }
	for _, tc := range []struct {
		name     string
		bindings libcnb.Bindings
		want     []string
		err      string
	}{
		{name: "none", bindings: libcnb.Bindings{binding("npm", "npmrc", ".npmrc")}},
		{name: "netrc, a hidden file libcnb leaves out of Secret", bindings: libcnb.Bindings{netrc("n")}, want: []string{"NETRC=" + filepath.Join(root, "n", ".netrc")}},
		{name: "two git bindings in name order", bindings: libcnb.Bindings{git("b"), git("a")}, want: []string{
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0=store --file=" + filepath.Join(root, "a", "credentials"),
			"GIT_CONFIG_KEY_1=credential.helper", "GIT_CONFIG_VALUE_1=store --file=" + filepath.Join(root, "b", "credentials"),
		}},
		{name: "git without credentials", bindings: libcnb.Bindings{binding("g", "git-credentials", "token")}, err: "holds no credentials file"},
		{name: "two netrc", bindings: libcnb.Bindings{netrc("a"), netrc("b")}, err: "tools read one netrc file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CredentialEnv(tc.bindings)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("CredentialEnv = %q, want %q", got, tc.want)
			}
		})
	}
}
