package buildpack

import (
	"slices"
	"strings"
	"testing"

	"github.com/buildpacks/libcnb/v2"
)

func TestCredentialEnv(t *testing.T) {
	git := func(name string) libcnb.Binding {
		return libcnb.Binding{Name: name, Path: "/platform/bindings/" + name, Type: "git-credentials", Secret: map[string]string{"credentials": "https://u:t@h\n"}}
	}
	netrc := func(name string) libcnb.Binding {
		return libcnb.Binding{Name: name, Path: "/platform/bindings/" + name, Type: "NetRC", Secret: map[string]string{".netrc": "machine h login u password p\n"}}
	}
	for _, tc := range []struct {
		name     string
		bindings libcnb.Bindings
		want     []string
		err      string
	}{
		{name: "none", bindings: libcnb.Bindings{{Name: "npm", Type: "npmrc", Secret: map[string]string{".npmrc": "x"}}}},
		{name: "netrc", bindings: libcnb.Bindings{netrc("n")}, want: []string{"NETRC=/platform/bindings/n/.netrc"}},
		{name: "two git bindings in name order", bindings: libcnb.Bindings{git("b"), git("a")}, want: []string{
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0=store --file=/platform/bindings/a/credentials",
			"GIT_CONFIG_KEY_1=credential.helper", "GIT_CONFIG_VALUE_1=store --file=/platform/bindings/b/credentials",
		}},
		{name: "git without credentials", bindings: libcnb.Bindings{{Name: "g", Path: "/p/g", Type: "git-credentials", Secret: map[string]string{"token": "x"}}}, err: "holds no credentials file"},
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
