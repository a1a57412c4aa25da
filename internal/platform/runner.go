package platform

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/distill-build/distill/internal/buildpack"
	"github.com/distill-build/distill/internal/cacheprune"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/lifecycle"
	"github.com/distill-build/distill/internal/sandbox"
)

// imageSource resolves an image when, and only if, it is needed: a direct
// build never resolves its build image.
type imageSource func(ctx context.Context) (v1.Image, error)

// buildSandbox is how one build runs its buildpacks.
type buildSandbox struct {
	runner   sandbox.Runner
	layout   lifecycle.Layout
	env      buildpack.Env // what every buildpack's environment starts from
	uid, gid int           // the CNB user
	direct   bool
}

// newSandbox decides how buildpacks run. Where distill can start containers
// they run through runc in the build image (resolved from buildImage and
// unpacked under the user cache dir). Where it cannot, but runs inside a CNB
// build image as its CNB user, they run directly, in place. Otherwise the
// error says what is missing and both ways out. name is the build image's
// reference, for messages.
func newSandbox(ctx context.Context, buildImage imageSource, name string, log io.Writer) (*buildSandbox, error) {
	h := readHost(ctx)
	if h.containerProblem == "" {
		return runcSandbox(ctx, buildImage, name, log)
	}
	box, err := directSandbox(h)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "Direct mode: distill cannot start containers here (%s); it runs the buildpacks in this build image as %d:%d, in %s, %s and %s\n",
		h.containerProblem, box.uid, box.gid, lifecycle.AppDir, lifecycle.LayersDir, lifecycle.PlatformDir)
	return box, nil
}

// runcSandbox unpacks the build image and runs buildpacks in it with runc,
// as the user its CNB_USER_ID/CNB_GROUP_ID name, with the image's env.
func runcSandbox(ctx context.Context, buildImage imageSource, name string, log io.Writer) (*buildSandbox, error) {
	img, err := buildImage(ctx)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading build image %s: %w", name, err)
	}
	env := buildpack.NewEnv(cf.Config.Env)
	uid, err := envInt(env, "CNB_USER_ID", name)
	if err != nil {
		return nil, err
	}
	gid, err := envInt(env, "CNB_GROUP_ID", name)
	if err != nil {
		return nil, err
	}
	env["HOME"] = "/home/" + userName(cf.Config.User, uid)
	rootfs, err := unpackCached(ctx, img, "build image "+name, log)
	if err != nil {
		return nil, err
	}
	return &buildSandbox{runner: &sandbox.Runc{Rootfs: rootfs}, env: env, uid: uid, gid: gid}, nil
}

// unpackCached unpacks img (what, for messages: "build image distill/build")
// once per digest under CacheRoot's rootfs/ and returns the directory.
func unpackCached(ctx context.Context, img v1.Image, what string, log io.Writer) (string, error) {
	digest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", what, err)
	}
	dir := filepath.Join(CacheRoot(), "rootfs", digest.Hex)
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(log, "Unpacking %s\n", what)
	}
	if err := image.Unpack(ctx, img, dir); err != nil {
		return "", err
	}
	if err := cacheprune.Use(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// host is what the choice between runc and direct rests on.
type host struct {
	uid, gid int
	// containerProblem says why distill cannot start containers here; "" when it can.
	containerProblem string
	env              []string // this process's environment, "NAME=VALUE"
	root             string   // where the CNB directories are looked for: "/"
}

// readHost probes the running system: root, runc on PATH answering
// --version, and CAP_SYS_ADMIN (which an unprivileged container lacks).
func readHost(ctx context.Context) host {
	h := host{uid: os.Getuid(), gid: os.Getgid(), env: os.Environ(), root: "/"}
	runc, err := exec.LookPath("runc")
	switch {
	case os.Geteuid() != 0:
		h.containerProblem = fmt.Sprintf("it runs as uid %d and runc needs root", os.Geteuid())
	case err != nil:
		h.containerProblem = "no runc on PATH"
	case exec.CommandContext(ctx, runc, "--version").Run() != nil:
		h.containerProblem = runc + " --version fails"
	case !hasCapability(unix.CAP_SYS_ADMIN):
		h.containerProblem = "it lacks CAP_SYS_ADMIN, as in an unprivileged container"
	}
	return h
}

// hasCapability reports whether this process has capability c in its
// effective set (/proc/self/status CapEff); false when that is unreadable.
func hasCapability(c int) bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<uint(c)) != 0
		}
	}
	return false
}

// directSandbox runs buildpacks on this system, in place, when it is a CNB
// build image and this process its CNB user: CNB_USER_ID and CNB_GROUP_ID
// are the current ids, /workspace and /layers are directories it can
// write. The build env is this process's own, less distill's.
func directSandbox(h host) (*buildSandbox, error) {
	env := buildpack.NewEnv(h.env)
	if err := inBuildImage(h, env); err != nil {
		return nil, fmt.Errorf("distill cannot run buildpacks here: it cannot start containers (%s), and it does not run inside a CNB build image as its user (%v). "+
			"Either run distill as root where runc can start containers (scripts/setup installs it; a container needs --privileged), "+
			"or run it as the CNB user inside the build image (a CI step started from distill/build, with /workspace, /layers and /platform writable by that user)",
			h.containerProblem, err)
	}
	for k := range env {
		if internalEnv(k) {
			delete(env, k)
		}
	}
	if env["HOME"] == "" {
		env["HOME"] = os.TempDir() // sandbox.Direct gives each process a private one
	}
	return &buildSandbox{runner: sandbox.Direct{}, layout: lifecycle.Layout{Root: h.root}, env: env, uid: h.uid, gid: h.gid, direct: true}, nil
}

// inBuildImage says why h is not a CNB build image run by its CNB user (nil
// when it is).
func inBuildImage(h host, env buildpack.Env) error {
	for _, id := range []struct {
		name string
		want int
	}{{"CNB_USER_ID", h.uid}, {"CNB_GROUP_ID", h.gid}} {
		name, want := id.name, id.want
		v, ok := env[name]
		if !ok {
			return fmt.Errorf("%s is not set", name)
		}
		if v != strconv.Itoa(want) {
			return fmt.Errorf("%s=%s, but distill runs as %d:%d", name, v, h.uid, h.gid)
		}
	}
	for _, d := range []string{lifecycle.AppDir, lifecycle.LayersDir} {
		p := filepath.Join(h.root, d)
		fi, err := os.Stat(p)
		if err == nil && !fi.IsDir() {
			err = errors.New("not a directory")
		}
		if err == nil {
			err = unix.Access(p, unix.W_OK)
		}
		if err != nil {
			return fmt.Errorf("%s is not a directory it can write: %w", p, err)
		}
	}
	return nil
}

// internalEnv names variables that describe distill's own process rather
// than the build: its settings (DISTILL_*) and the shell's bookkeeping.
func internalEnv(name string) bool {
	switch name {
	case "PWD", "OLDPWD", "SHLVL", "_":
		return true
	}
	return strings.HasPrefix(name, "DISTILL_")
}
