package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/sandbox"
)

// fakeRunner is the sandbox.Runner of the seam tests: it starts no process.
// Like runc, it sees a process only through what the lifecycle hands it: the
// command and every path it names are resolved through the process's mounts
// (a write under a read-only mount fails), and the Go function registered for
// <module dir>/bin/<phase> runs in place of the binary. A function's error
// becomes the non-zero exit the lifecycle reads (exitCode for a chosen one,
// 1 otherwise), its message written to the process's stderr.
type fakeRunner struct {
	mu    sync.Mutex
	funcs map[string]phaseFunc // host path of <module>/bin/<phase> → the module's code
	ran   []string             // "<module id> <phase>", in the order they ran
}

// phaseFunc is a module's bin/detect, bin/build or bin/generate.
type phaseFunc func(c *fakeCall) error

// exitCode is the status a phaseFunc exits with: exitCode(detectExitFail)
// is a detect that does not apply.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func newFakeRunner() *fakeRunner { return &fakeRunner{funcs: map[string]phaseFunc{}} }

// on registers fn as module d's bin/<phase>.
func (r *fakeRunner) on(d *buildpack.Descriptor, phase string, fn phaseFunc) {
	r.funcs[filepath.Join(d.Dir, "bin", phase)] = fn
}

// Run resolves the command through the mounts and calls its function.
func (r *fakeRunner) Run(ctx context.Context, p sandbox.Process) error {
	c := &fakeCall{env: buildpack.NewEnv(p.Env), mounts: p.Mounts, out: p.Stdout}
	bin, _, err := c.resolve(p.Args[0])
	if err != nil {
		return err
	}
	if _, _, err := c.resolve(p.Dir); err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	fn, ok := r.funcs[bin]
	if !ok {
		return fmt.Errorf("%s (%s on the host): no such file", p.Args[0], bin)
	}
	r.mu.Lock()
	r.ran = append(r.ran, c.module()+" "+filepath.Base(bin))
	r.mu.Unlock()
	if err := fn(c); err != nil {
		var code exitCode
		if !errors.As(err, &code) {
			fmt.Fprintln(p.Stderr, err)
			code = 1
		}
		return &sandbox.ExitError{Args: p.Args, Code: int(code)}
	}
	return nil
}

// phases lists what ran of phase, by module id, in order.
func (r *fakeRunner) phases(phase string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.ran {
		if id, ph, _ := strings.Cut(s, " "); ph == phase {
			out = append(out, id)
		}
	}
	return out
}

// fakeCall is one run of a module's binary as the module sees it: its
// environment, and the filesystem through the mounts.
type fakeCall struct {
	env    buildpack.Env
	mounts []sandbox.Mount
	out    io.Writer
}

// module is the id of the running module, from CNB_BUILDPACK_DIR or CNB_EXTENSION_DIR
// (/cnb/buildpacks/<escaped id>/<version>).
func (c *fakeCall) module() string {
	dir := c.env["CNB_BUILDPACK_DIR"]
	if dir == "" {
		dir = c.env["CNB_EXTENSION_DIR"]
	}
	return strings.Replace(filepath.Base(filepath.Dir(dir)), "_", "/", 1)
}

// resolve maps a path inside the sandbox to the host through the longest
// mount that holds it.
func (c *fakeCall) resolve(p string) (host string, readOnly bool, err error) {
	best := -1
	for i, m := range c.mounts {
		if within(p, m.Destination) && (best < 0 || len(m.Destination) > len(c.mounts[best].Destination)) {
			best = i
		}
	}
	if best < 0 {
		return "", false, fmt.Errorf("%s is not mounted in the sandbox", p)
	}
	m := c.mounts[best]
	rel, _ := filepath.Rel(m.Destination, p)
	return filepath.Join(m.Source, rel), m.ReadOnly, nil
}

// path is the sandbox path in env variable name, joined with elem.
func (c *fakeCall) path(name string, elem ...string) string {
	return filepath.Join(append([]string{c.env[name]}, elem...)...)
}

// read reads a file at a sandbox path.
func (c *fakeCall) read(p string) (string, error) {
	host, _, err := c.resolve(p)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(host)
	return string(b), err
}

// write writes a file at a sandbox path, creating its directory; a path
// under a read-only mount fails as it would in the container.
func (c *fakeCall) write(p, content string) error {
	host, ro, err := c.resolve(p)
	if err != nil {
		return err
	}
	if ro {
		return fmt.Errorf("writing %s: read-only file system", p)
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	return os.WriteFile(host, []byte(content), 0o644)
}

// writeAll writes files (names relative to the sandbox directory in env
// variable dirVar) in name order, stopping at the first error.
func (c *fakeCall) writeAll(dirVar string, files map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := c.write(c.path(dirVar, name), files[name]); err != nil {
			return err
		}
	}
	return nil
}

// fakeModule makes a module directory for id, a buildpack or, with
// extension, an image extension: its descriptor (extension.toml carries
// [metadata] static-tag as distill/run-static's does) and an empty bin/.
func fakeModule(t *testing.T, id string, extension bool) *buildpack.Descriptor {
	t.Helper()
	dir := filepath.Join(t.TempDir(), buildpack.EscapedID(id))
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	name, table, extra := "buildpack.toml", "buildpack", ""
	if extension {
		name, table, extra = "extension.toml", "extension", "[metadata]\nstatic-tag = \"static\"\n"
	}
	descriptor := fmt.Sprintf("api = \"0.10\"\n[%s]\nid = %q\nversion = \"1.0\"\n%s", table, id, extra)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(descriptor), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := buildpack.ReadDescriptor(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// seam is one build through the fake runner: the modules, the order, and
// the run images asked for.
type seam struct {
	runner  *fakeRunner
	opts    Options
	mu      sync.Mutex
	fetched []string // run images ResolveImage was asked for
}

// newSeam prepares Options for modules on a one-file app (app.txt), laid out
// as for runc (the spec's paths, mounted), run as the current user, with the
// run images test/run:base (the default) and test/run:other, layers in gzip.
func newSeam(t *testing.T, buildpacks, extensions []*buildpack.Descriptor) *seam {
	t.Helper()
	run, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if run, err = mutate.Config(run, v1.Config{Env: []string{"PATH=/usr/bin:/bin", "RUN_IMAGE_VAR=run"}}); err != nil {
		t.Fatal(err)
	}
	s := &seam{runner: newFakeRunner()}
	s.opts = Options{
		AppDir: sampleApp(t), Modules: Modules{Buildpacks: buildpacks, Extensions: extensions},
		BuildEnv: []string{"PATH=/usr/bin:/bin", "HOME=/home/cnb"}, Runner: s.runner,
		UID: os.Getuid(), GID: os.Getgid(), Env: map[string]string{"USER_VAR": "from --env"},
		RunImages: []string{"test/run:base", "test/run:other"},
		// gzip: zstd at its best ratio spends more clearing its window than the tests take
		Compression: image.Gzip,
		ResolveImage: func(_ context.Context, ref string) (v1.Image, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.fetched = append(s.fetched, ref)
			return run, nil
		},
	}
	return s
}

// build runs lifecycle.Build and closes the result when the test ends.
func (s *seam) build(t *testing.T) (*Result, error) {
	t.Helper()
	res, err := Build(context.Background(), s.opts)
	if res != nil {
		t.Cleanup(res.Close)
	}
	return res, err
}

// group is an order group of the ids; an id ending in "?" is optional.
func group(ids ...string) buildpack.Group {
	var g buildpack.Group
	for _, id := range ids {
		id, optional := strings.CutSuffix(id, "?")
		g.Group = append(g.Group, buildpack.Ref{ID: id, Optional: optional})
	}
	return g
}

// passWith is a bin/detect that passes, writing plan as its build plan.
func passWith(plan string) phaseFunc {
	return func(c *fakeCall) error { return c.write(c.env["CNB_BUILD_PLAN_PATH"], plan) }
}

// failDetect is a bin/detect that does not apply, saying why.
func failDetect(why string) phaseFunc {
	return func(c *fakeCall) error {
		fmt.Fprintln(c.out, why)
		return exitCode(detectExitFail)
	}
}

// selfPlan provides and requires name: a buildpack that stands alone.
func selfPlan(name string) string {
	return fmt.Sprintf("[[provides]]\nname = %q\n[[requires]]\nname = %q\n", name, name)
}
