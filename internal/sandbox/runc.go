package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Runc runs processes with the runc OCI runtime on an unpacked root
// filesystem. The container shares the host network (buildpacks download
// toolchains and dependencies) and mounts the host's resolv.conf and hosts.
type Runc struct {
	Rootfs string // unpacked build image
	Binary string // runc executable; "runc" when empty
	State  string // runc --root; a private directory when empty
}

// Run starts p in a fresh container and waits for it.
func (r *Runc) Run(ctx context.Context, p Process) error {
	bundle, err := os.MkdirTemp("", "distill-bundle-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bundle)
	spec := r.spec(p)
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o600); err != nil {
		return err
	}
	state := r.State
	if state == "" {
		state = filepath.Join(os.TempDir(), "distill-runc")
	}
	bin := r.Binary
	if bin == "" {
		bin = "runc"
	}
	id := "distill-" + randomID()
	cmd := exec.CommandContext(ctx, bin, "--root", state, "run", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	cmd.Cancel = func() error {
		// Kill the container, not only the runc client.
		_ = exec.Command(bin, "--root", state, "kill", id, "KILL").Run()
		return cmd.Process.Kill()
	}
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &ExitError{Args: p.Args, Code: exit.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("running %s in %s: %w", p.Args[0], r.Rootfs, err)
	}
	return nil
}

func (r *Runc) spec(p Process) *specs.Spec {
	mounts := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
	}
	for _, f := range []string{"/etc/resolv.conf", "/etc/hosts"} {
		if _, err := os.Stat(f); err == nil {
			mounts = append(mounts, bind(f, f, true))
		}
	}
	if p.Home != "" {
		// runc gives a tmpfs the mode of the directory it covers: own it instead.
		mounts = append(mounts, specs.Mount{Destination: p.Home, Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "mode=700", fmt.Sprintf("uid=%d", p.UID), fmt.Sprintf("gid=%d", p.GID)}})
	}
	for _, m := range p.Mounts {
		mounts = append(mounts, bind(m.Source, m.Destination, m.ReadOnly))
	}
	dir := p.Dir
	if dir == "" {
		dir = "/"
	}
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: r.Rootfs, Readonly: true},
		Process: &specs.Process{
			User:            specs.User{UID: uint32(p.UID), GID: uint32(p.GID)},
			Args:            p.Args,
			Env:             p.Env,
			Cwd:             dir,
			NoNewPrivileges: true,
			Capabilities:    &specs.LinuxCapabilities{},
		},
		Hostname: "distill",
		Mounts:   mounts,
		Linux: &specs.Linux{
			// No network namespace: the build uses the host's network.
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

func bind(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "nosuid", "nodev"}
	if ro {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
