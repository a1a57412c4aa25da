package buildpack

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/buildpacks/libcnb/v2"
)

// Binding types whose credentials tools read where the platform put them
// (<platform>/bindings/<name>/...), so nothing of them is copied into a layer.
const (
	// BindingGitCredentials holds `credentials`, in git-credential-store's
	// format (one https://USER:TOKEN@HOST line per host), for git fetches:
	// Go modules from private repositories, git+https requirements, git
	// dependencies of npm packages.
	BindingGitCredentials = "git-credentials"
	// BindingNetrc holds `.netrc` for tools that read one: the go command
	// (private GOPROXY, direct module fetches) and pip (private indexes).
	BindingNetrc = "netrc"
)

// CredentialEnv is the environment that points git and netrc readers at the
// build's git-credentials and netrc bindings: git's credential.helper set to
// `store --file=<binding>/credentials` through GIT_CONFIG_COUNT (one helper
// per binding, git asks each in turn) and NETRC at the netrc binding's file.
// The secrets stay in the binding; only their paths are in the environment,
// which no layer records.
func CredentialEnv(bindings libcnb.Bindings) ([]string, error) {
	sorted := append(libcnb.Bindings(nil), bindings...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var env, helpers []string
	netrc := ""
	for _, b := range sorted {
		switch strings.ToLower(strings.TrimSpace(b.Type)) {
		case BindingGitCredentials:
			if _, ok := BindingFile(b, "credentials"); !ok {
				return nil, fmt.Errorf("binding %q (%s) of type %s holds no credentials file; write https://USER:TOKEN@HOST lines to %s", b.Name, b.Path, BindingGitCredentials, filepath.Join(b.Path, "credentials"))
			}
			helpers = append(helpers, "store --file="+filepath.Join(b.Path, "credentials"))
		case BindingNetrc:
			if _, ok := BindingFile(b, ".netrc"); !ok {
				return nil, fmt.Errorf("binding %q (%s) of type %s holds no .netrc file; write the netrc entries to %s", b.Name, b.Path, BindingNetrc, filepath.Join(b.Path, ".netrc"))
			}
			if netrc != "" {
				return nil, fmt.Errorf("bindings %s and %q are both of type %s; tools read one netrc file: merge them into one binding", netrc, b.Path, BindingNetrc)
			}
			netrc = filepath.Join(b.Path, ".netrc")
			env = append(env, "NETRC="+netrc)
		}
	}
	if len(helpers) > 0 {
		env = append(env, "GIT_CONFIG_COUNT="+strconv.Itoa(len(helpers)))
		for i, h := range helpers {
			n := strconv.Itoa(i)
			env = append(env, "GIT_CONFIG_KEY_"+n+"=credential.helper", "GIT_CONFIG_VALUE_"+n+"="+h)
		}
	}
	return env, nil
}

// BindingFile is the path of the first of names that is a file of binding b.
// It looks on disk: libcnb leaves hidden files (.npmrc, .netrc) out of
// b.Secret.
func BindingFile(b libcnb.Binding, names ...string) (string, bool) {
	for _, n := range names {
		p := filepath.Join(b.Path, n)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}
