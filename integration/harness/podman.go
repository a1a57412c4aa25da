package harness

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// WaitTimeout is how long WaitHTTP polls for an answer.
const WaitTimeout = 60 * time.Second

// LoadOCI loads the single image of the OCI layout at layoutDir into podman
// and returns a unique tag for it (localhost/distill-test/<test>:<random>).
// The tag is removed when the test ends.
func LoadOCI(t testing.TB, layoutDir string) string {
	t.Helper()
	RequireTools(t)
	abs, err := filepath.Abs(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "index.json")); err != nil {
		t.Fatalf("LoadOCI: %s is not an OCI layout: %v", layoutDir, err)
	}
	// Check up front that the layout holds one image, for a clear message.
	if _, err := layoutImage(abs); err != nil {
		t.Fatalf("LoadOCI: %v", err)
	}
	// podman names an image pulled from oci:<path> after the path, which
	// must then be a valid (lowercase) repository name: pull through a
	// lowercase symlink, tag the image uniquely, drop the path-derived name.
	linkDir, err := os.MkdirTemp(lowercaseTempDir(), "distill-oci-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(linkDir)
	link := filepath.Join(linkDir, "image")
	if err := os.Symlink(abs, link); err != nil {
		t.Fatal(err)
	}
	id := Podman(t, "pull", "--quiet", "oci:"+link)
	if i := strings.LastIndex(id, "\n"); i >= 0 { // keep only the image ID line
		id = id[i+1:]
	}
	ref := uniqueRef(t.Name())
	Podman(t, "tag", id, ref)
	if _, err := podman("untag", id, "localhost"+link+":latest"); err != nil {
		t.Logf("LoadOCI: %v", err)
	}
	t.Cleanup(func() {
		// Removes the image, or only this tag if another test tagged it too.
		if _, err := podman("rmi", "--force", ref); err != nil {
			t.Logf("LoadOCI cleanup: %v", err)
		}
	})
	return ref
}

// lowercaseTempDir is os.TempDir(), or /tmp when that is no valid
// lowercase repository path.
func lowercaseTempDir() string {
	d := os.TempDir()
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '/' || r == '-' || r == '_' || r == '.') {
			return "/tmp"
		}
	}
	return d
}

// uniqueRef is a podman image reference unique to this call, named after the test.
func uniqueRef(testName string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "localhost/distill-test/" + repoName(testName) + ":" + hex.EncodeToString(b[:])
}

// repoName turns a test name into a valid repository path component:
// lowercase [a-z0-9] runs joined by single dashes, at most 60 characters.
func repoName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	name := b.String()
	if len(name) > 60 {
		name = strings.TrimRight(name[:60], "-")
	}
	if name == "" {
		name = "image"
	}
	return name
}

// RunOption adjusts how Run starts a container.
type RunOption func(*runConfig)

type runConfig struct {
	env        []string
	args       []string
	entrypoint *string
	user       string
	flags      []string
}

// WithEnv sets an environment variable in the container.
func WithEnv(key, value string) RunOption {
	return func(c *runConfig) { c.env = append(c.env, key+"="+value) }
}

// WithArgs passes arguments after the image (the command, or the entrypoint's
// arguments).
func WithArgs(args ...string) RunOption {
	return func(c *runConfig) { c.args = append(c.args, args...) }
}

// WithEntrypoint overrides the image's entrypoint (a JSON array is allowed,
// as podman's --entrypoint takes it).
func WithEntrypoint(entrypoint string) RunOption {
	return func(c *runConfig) { c.entrypoint = &entrypoint }
}

// WithUser runs the container as user (uid, uid:gid or a name).
func WithUser(user string) RunOption {
	return func(c *runConfig) { c.user = user }
}

// WithFlags adds raw `podman run` flags.
func WithFlags(flags ...string) RunOption {
	return func(c *runConfig) { c.flags = append(c.flags, flags...) }
}

// Container is a container started by Run. It is removed when the test ends;
// when the test failed, its logs are printed first.
type Container struct {
	ID   string
	Ref  string
	Port int    // the container listens on $PORT; published on 127.0.0.1:Port
	URL  string // http://127.0.0.1:Port
}

// Run starts ref detached, with PORT=<p> in its environment and 127.0.0.1:<p>
// published to the container's <p>, on a free port p.
func Run(t testing.TB, ref string, opts ...RunOption) *Container {
	t.Helper()
	RequireTools(t)
	cfg := &runConfig{}
	for _, o := range opts {
		o(cfg)
	}
	port := freePort(t)
	p := strconv.Itoa(port)
	args := []string{"run", "--detach", "--env", "PORT=" + p, "--publish", "127.0.0.1:" + p + ":" + p}
	for _, e := range cfg.env {
		args = append(args, "--env", e)
	}
	if cfg.entrypoint != nil {
		args = append(args, "--entrypoint", *cfg.entrypoint)
	}
	if cfg.user != "" {
		args = append(args, "--user", cfg.user)
	}
	args = append(args, cfg.flags...)
	args = append(args, ref)
	args = append(args, cfg.args...)
	id, err := podman(args...)
	if err != nil {
		if id != "" { // created but not started: remove it
			_, _ = podman("rm", "--force", "--time", "0", strings.TrimSpace(id))
		}
		t.Fatalf("Run: %v", err)
	}
	c := &Container{ID: id, Ref: ref, Port: port, URL: "http://127.0.0.1:" + p}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs of container %.12s (%s):\n%s", c.ID, c.Ref, c.logs())
		}
		if _, err := podman("rm", "--force", "--time", "0", c.ID); err != nil {
			t.Logf("Run cleanup: %v", err)
		}
	})
	return c
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Logs returns the container's stdout and stderr so far.
func (c *Container) Logs(t testing.TB) string {
	t.Helper()
	return c.logs()
}

func (c *Container) logs() string {
	out, err := podman("logs", c.ID)
	if err != nil {
		return err.Error()
	}
	return out
}

// Running reports whether the container's process is still running.
func (c *Container) Running(t testing.TB) bool {
	t.Helper()
	return Podman(t, "inspect", "--format", "{{.State.Running}}", c.ID) == "true"
}

// WaitHTTP polls GET c.URL+path until the server answers (any status) and
// returns that answer's status and body. It fails the test, with the
// container's logs, when the container exits or nothing answers within
// WaitTimeout.
func (c *Container) WaitHTTP(t testing.TB, path string) (status int, body string) {
	t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(WaitTimeout)
	lastCheck := time.Now()
	var lastErr error
	for time.Now().Before(deadline) {
		resp, err := client.Get(c.URL + path)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil {
				return resp.StatusCode, string(b)
			}
			err = rerr
		}
		lastErr = err
		if time.Since(lastCheck) > time.Second {
			lastCheck = time.Now()
			if state, _ := podman("inspect", "--format", "{{.State.Status}} (exit code {{.State.ExitCode}})", c.ID); !strings.HasPrefix(state, "running") {
				t.Fatalf("WaitHTTP %s%s: the container is %s; logs:\n%s", c.URL, path, state, c.logs())
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("WaitHTTP %s%s: no answer within %s (last error: %v); logs:\n%s", c.URL, path, WaitTimeout, lastErr, c.logs())
	return 0, ""
}

// Config is the part of an image's configuration the tests check.
type Config struct {
	User         string
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	Labels       map[string]string
	ExposedPorts map[string]struct{}
	OS           string
	Architecture string
}

// Getenv returns the value of key in the image's environment ("" if unset).
func (c Config) Getenv(key string) string {
	v, _ := c.LookupEnv(key)
	return v
}

// LookupEnv returns the value of key in the image's environment and whether it is set.
func (c Config) LookupEnv(key string) (string, bool) {
	for _, kv := range c.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// ImageConfig reads ref's configuration with `podman image inspect`.
func ImageConfig(t testing.TB, ref string) Config {
	t.Helper()
	RequireTools(t)
	out := Podman(t, "image", "inspect", "--format", "json", ref)
	cfg, err := parseImageInspect([]byte(out))
	if err != nil {
		t.Fatalf("podman image inspect %s: %v", ref, err)
	}
	return cfg
}

// parseImageInspect reads the JSON array `podman image inspect` prints.
func parseImageInspect(b []byte) (Config, error) {
	var imgs []struct {
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			Env          []string
			WorkingDir   string
			Labels       map[string]string
			ExposedPorts map[string]struct{}
		}
		Os           string
		Architecture string
	}
	if err := json.Unmarshal(b, &imgs); err != nil {
		return Config{}, err
	}
	if len(imgs) != 1 {
		return Config{}, fmt.Errorf("want 1 image, got %d", len(imgs))
	}
	c := imgs[0].Config
	return Config{
		User: c.User, Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir,
		Labels: c.Labels, ExposedPorts: c.ExposedPorts, OS: imgs[0].Os, Architecture: imgs[0].Architecture,
	}, nil
}
