package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Direct runs processes on the current system with os/exec: no namespaces,
// no mounts, no change of user. It is the runner of a driver that already
// runs inside the build image as the CNB user (a CI step started from the
// build or builder image, where containers cannot be started) and needs no
// root.
//
// What a container would provide, Direct either provides or refuses:
//   - Mounts: only a mount whose Source and Destination are the same path is
//     honoured (the path is used as it is); any other mount is an error.
//     ReadOnly is not enforced: the directory's own permissions apply.
//   - UID/GID: the process runs as the current user; a Process asking for
//     another UID or GID is an error.
//   - Home: a fresh private directory (mode 0700) in the temp dir, with HOME
//     pointing at it, removed when the process ends.
type Direct struct{}

// killGrace is how long Run waits for the process's output pipes to close
// after the process ended or was killed (children that inherited them).
const killGrace = 5 * time.Second

// Run starts p on the current system and waits for it. A non-zero exit is an
// *ExitError; a Process Direct cannot honour is refused before it starts.
func (Direct) Run(ctx context.Context, p Process) error {
	if err := checkDirect(p); err != nil {
		return err
	}
	env := append([]string{}, p.Env...) // never nil: exec would inherit distill's own environment
	if p.Home != "" {
		home, err := os.MkdirTemp("", "distill-home-*")
		if err != nil {
			return fmt.Errorf("creating a private home for %s: %w", p.Args[0], err)
		}
		defer os.RemoveAll(home)
		env = withEnv(env, "HOME", home)
	}
	cmd := exec.CommandContext(ctx, p.Args[0], p.Args[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, p.Stdout, p.Stderr
	cmd.Dir = p.Dir
	if cmd.Dir == "" {
		cmd.Dir = "/"
	}
	// Its own process group, so a cancel kills the children (compilers) too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = killGrace
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if exit.ExitCode() >= 0 {
			return &ExitError{Args: p.Args, Code: exit.ExitCode()}
		}
		return fmt.Errorf("running %s: %w", p.Args[0], err)
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", p.Args[0], err)
	}
	return nil
}

// checkDirect refuses what Direct cannot do: another user, a mount that
// would move a path, no command.
func checkDirect(p Process) error {
	if len(p.Args) == 0 {
		return errors.New("direct sandbox: no command to run")
	}
	if uid, gid := os.Getuid(), os.Getgid(); p.UID != uid || p.GID != gid {
		return fmt.Errorf("direct sandbox: %s must run as %d:%d, but distill runs as %d:%d and cannot switch users without a container",
			p.Args[0], p.UID, p.GID, uid, gid)
	}
	for _, m := range p.Mounts {
		if filepath.Clean(m.Source) != filepath.Clean(m.Destination) {
			return fmt.Errorf("direct sandbox: cannot mount %s at %s for %s: without a container a path can only be used where it is",
				m.Source, m.Destination, p.Args[0])
		}
	}
	return nil
}

// withEnv returns env with name set to value, replacing earlier settings.
func withEnv(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}
