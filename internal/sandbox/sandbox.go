// Package sandbox runs buildpack processes inside the build image: through an
// OCI runtime (Runc) on its unpacked root filesystem, or, when the driver
// already runs inside the build image, directly on the current system (Direct).
package sandbox

import (
	"context"
	"fmt"
	"io"
)

// Mount binds a host path into the sandbox.
type Mount struct {
	Source      string
	Destination string
	ReadOnly    bool
}

// Process is one command to run in the sandbox.
type Process struct {
	Args []string
	Env  []string // "NAME=VALUE"
	Dir  string   // working directory inside the sandbox
	// Home, when set, is mounted as a private, empty tmpfs owned by UID:GID
	// (tools write caches under $HOME). Direct, which cannot mount, gives a
	// fresh private directory instead and points HOME at it.
	Home   string
	UID    int
	GID    int
	Mounts []Mount
	Stdout io.Writer
	Stderr io.Writer
}

// Runner runs a process to completion. An exit status other than zero is
// returned as an *ExitError so callers can read detect's 100.
type Runner interface {
	Run(ctx context.Context, p Process) error
}

// ExitError reports a process that ran and exited with a non-zero status.
type ExitError struct {
	Args []string
	Code int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s: exit status %d", e.Args[0], e.Code)
}
