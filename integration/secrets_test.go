package integration

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/integration/harness"
	"github.com/distill-build/distill/integration/pyindex"
	"github.com/distill-build/distill/internal/testenv"
)

// secretApp is one app TestSecrets builds with a canary in every channel.
type secretApp struct {
	name, sample string
	// control is a string the app layer holds (a response the app writes):
	// the scan must find it inside a layer, or it is not reading them.
	control string
	// extra adds the channels only this app's buildpack reads: its canaries
	// (channel → value), more distill flags, and what the build log must say
	// to show the channel reached the buildpack.
	extra func(t *testing.T, app string, idx *pyindex.Server, canary func(string) string) ([]string, []string)
}

// TestSecrets builds a Go, a Node.js and a Python app, each with a distinct
// canary in every channel a secret reaches a build by (--env, --env-file,
// service bindings of every type a buildpack reads, pip index credentials),
// then reads every byte of the OCI layout (index, manifest, config, every
// layer decompressed, entry by entry) and of the build cache, and fails
// naming the blob and entry where any canary appears.
func TestSecrets(t *testing.T) {
	testenv.Slow(t, "an integration test: builds, loads and runs real images")
	harness.RequireTools(t)
	apps := []secretApp{
		{name: "go", sample: "samples/go-mux", control: "hello from distill"},
		{name: "node", sample: "samples/node-express", control: "hello from distill/node express", extra: npmrcChannel},
		{name: "python", sample: "integration/testdata/python/flask-auto", control: "hello from flask (requests", extra: pipChannels},
	}
	for _, a := range apps {
		t.Run(a.name, func(t *testing.T) {
			app := copyApp(t, a.sample)
			canaries := map[string]string{}
			canary := func(channel string) string {
				v := "canary-" + channel + "-" + a.name + "-" + randomHex(t)
				canaries[channel] = v
				return v
			}
			args := commonChannels(t, app, canary)
			var idx *pyindex.Server
			if a.name == "python" {
				idx = pythonIndex(t)
			}
			var wantLog []string
			if a.extra != nil {
				more, logs := a.extra(t, app, idx, canary)
				args, wantLog = append(args, more...), logs
			}
			out := filepath.Join(t.TempDir(), "image")
			cache := filepath.Join(t.TempDir(), "cache")
			start := time.Now()
			b := distill(t, app, append([]string{"-o", "oci:" + out, "--cache-dir", cache}, args...)...).must(t)
			t.Logf("built in %.1fs with canaries in %s", time.Since(start).Seconds(), strings.Join(channelNames(canaries), ", "))
			for _, w := range append(wantLog, "api-key (api-key)", "git (git-credentials)", "netrc (netrc)") {
				if !strings.Contains(b.stdout+b.stderr, w) {
					t.Errorf("the build log does not say %q: the channel did not reach the build\n%s", w, b.stderr)
				}
			}
			if idx != nil {
				checkIndexAuth(t, idx, canaries)
			}
			checkNoCanary(t, out, cache, canaries, a.control)
		})
	}
}

// checkNoCanary fails for every canary found in the image layout out or the
// build cache, and unless the scan finds control inside a layer of out.
func checkNoCanary(t *testing.T, out, cache string, canaries map[string]string, control string) {
	t.Helper()
	values := []string{control}
	for _, v := range canaries {
		values = append(values, v)
	}
	start := time.Now()
	controlSeen := false
	for _, where := range []string{"image", "build cache"} {
		dir := map[string]string{"image": out, "build cache": cache}[where]
		for _, f := range harness.FindStrings(t, dir, values) {
			if f.Needle != control {
				t.Errorf("secret leaked into the %s: %s", where, f)
			} else if where == "image" && f.Entry != "" {
				controlSeen = true
			}
		}
	}
	if !controlSeen {
		t.Errorf("the scan found %q in no layer of %s: it does not read the layers, so it proves nothing", control, out)
	}
	t.Logf("searched the image and the build cache in %.1fs", time.Since(start).Seconds())
}

// commonChannels puts a canary in the channels every build has: --env, an
// --env-file inside the app directory, a directory of bindings inside it (an
// unread api-key binding), and git-credentials and netrc bindings outside it.
func commonChannels(t *testing.T, app string, canary func(string) string) []string {
	t.Helper()
	envFile := filepath.Join(app, "build.env")
	writeFile(t, envFile, "# build secrets\nDISTILL_SECRET_FILE="+canary("env-file")+"\n")
	bindings := filepath.Join(app, ".bindings")
	writeBinding(t, filepath.Join(bindings, "api-key"), "api-key", map[string]string{"key": canary("binding")})
	outside := t.TempDir()
	writeBinding(t, filepath.Join(outside, "git"), "git-credentials", map[string]string{
		"credentials": "https://git:" + canary("git-credentials") + "@git.invalid\n"})
	writeBinding(t, filepath.Join(outside, "netrc"), "netrc", map[string]string{
		".netrc": "machine netrc.invalid login u password " + canary("netrc") + "\n"})
	return []string{
		"--env", "DISTILL_SECRET_ENV=" + canary("env"),
		"--env-file", envFile,
		"--binding", bindings,
		"--binding", filepath.Join(outside, "git"), "--binding", filepath.Join(outside, "netrc"),
	}
}

// npmrcChannel adds an npmrc binding whose .npmrc holds an _authToken.
func npmrcChannel(t *testing.T, _ string, _ *pyindex.Server, canary func(string) string) ([]string, []string) {
	dir := filepath.Join(t.TempDir(), "npm")
	writeBinding(t, dir, "npmrc", map[string]string{
		".npmrc": "//npm.invalid/:_authToken=" + canary("npmrc") + "\n"})
	return []string{"--binding", dir}, []string{"Using the npmrc binding"}
}

// pipChannels makes the test index private and reaches it with credentials
// in PIP_INDEX_URL (--env) and in a pip binding's extra-index-url.
func pipChannels(t *testing.T, _ string, idx *pyindex.Server, canary func(string) string) ([]string, []string) {
	envPass, bindPass := canary("pip-index-url"), canary("pip-binding")
	idx.RequireBasicAuth("pip:"+envPass, "pipb:"+bindPass)
	withAuth := func(user, pass string) string {
		return strings.Replace(idx.URL, "http://", "http://"+user+":"+pass+"@", 1)
	}
	dir := filepath.Join(t.TempDir(), "pip")
	writeBinding(t, dir, "pip", map[string]string{"extra-index-url": withAuth("pipb", bindPass)})
	return []string{"--env", "PIP_INDEX_URL=" + withAuth("pip", envPass), "--binding", dir}, nil
}

// checkIndexAuth fails unless pip presented both pip credentials.
func checkIndexAuth(t *testing.T, idx *pyindex.Server, canaries map[string]string) {
	t.Helper()
	uses := idx.AuthUses()
	for user, channel := range map[string]string{"pip": "pip-index-url", "pipb": "pip-binding"} {
		if n := uses[user+":"+canaries[channel]]; n == 0 {
			t.Errorf("pip never presented the %s credentials (%v): the channel was not exercised", channel, uses)
		}
	}
}

func writeBinding(t *testing.T, dir, typ string, files map[string]string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "type"), typ+"\n")
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func channelNames(canaries map[string]string) []string {
	names := make([]string, 0, len(canaries))
	for k := range canaries {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
