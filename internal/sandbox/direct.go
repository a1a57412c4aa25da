package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// Direct runs processes as children of the driver, for when the driver already
// runs inside the build image (a CI step that uses the builder image). Mounts
// must already be in place: their destinations are used as they are.
type Direct struct{}

// Run runs p and waits for it.
func (Direct) Run(ctx context.Context, p Process) error {
	cmd := exec.CommandContext(ctx, p.Args[0], p.Args[1:]...)
	cmd.Env, cmd.Dir = p.Env, p.Dir
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &ExitError{Args: p.Args, Code: exit.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", p.Args[0], err)
	}
	return nil
}
