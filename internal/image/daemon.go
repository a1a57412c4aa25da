package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/moby/moby/client"
)

// PodmanSocket is the Docker-compatible API of `podman system service`, used
// when DOCKER_HOST is unset.
var PodmanSocket = "/run/podman/podman.sock"

// DaemonHost returns the Docker API address DaemonClient connects to:
// $DOCKER_HOST, else PodmanSocket when it exists, else the client's default
// (unix:///var/run/docker.sock).
func DaemonHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	if fi, err := os.Stat(PodmanSocket); err == nil && fi.Mode()&os.ModeSocket != 0 {
		return "unix://" + PodmanSocket
	}
	return client.DefaultDockerHost
}

// DaemonClient returns a Docker API client for DaemonHost, with the rest of the
// environment (DOCKER_API_VERSION, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) honoured.
func DaemonClient() (*client.Client, error) {
	opts := []client.Opt{client.FromEnv}
	if os.Getenv("DOCKER_HOST") == "" {
		opts = append(opts, client.WithHost(DaemonHost()))
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker API at %s: %w", DaemonHost(), err)
	}
	return c, nil
}

// daemonClient returns the configured client or a new one, and a func to release it.
func (o options) daemonClient() (daemon.Client, func(), error) {
	if o.client != nil {
		return o.client, func() {}, nil
	}
	c, err := DaemonClient()
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}

// DaemonAnswers reports whether the Docker API at DaemonHost answers a ping
// within a few seconds.
func DaemonAnswers(ctx context.Context, opts ...Option) bool {
	c, release, err := makeOptions(opts...).daemonClient()
	if err != nil {
		return false
	}
	defer release()
	return pingDaemon(ctx, c) == nil
}

// pingDaemon reports whether the Docker API answers within a short time.
func pingDaemon(ctx context.Context, c daemon.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	return err
}

// Daemon loads an image into the Docker API (Docker or podman) as tag. The
// image streams to the daemon; nothing is buffered in memory.
func Daemon(tag name.Tag, opts ...Option) Target {
	return daemonTarget{tag: tag, o: makeOptions(opts...)}
}

type daemonTarget struct {
	tag name.Tag
	o   options
}

func (t daemonTarget) String() string { return "daemon:" + t.tag.String() }

func (t daemonTarget) Write(ctx context.Context, img v1.Image) error {
	c, release, err := t.o.daemonClient()
	if err != nil {
		return err
	}
	defer release()
	if err := pingDaemon(ctx, c); err != nil {
		return fmt.Errorf("writing %s: Docker API at %s does not answer: %w", t, DaemonHost(), err)
	}
	resp, err := daemon.Write(t.tag, img, daemon.WithClient(c), daemon.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	if err := loadError(resp); err != nil {
		return fmt.Errorf("writing %s: %w", t, err)
	}
	return nil
}

// loadError finds an error in the JSON message stream of an image load.
func loadError(resp string) error {
	dec := json.NewDecoder(strings.NewReader(resp))
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return nil // not a message stream (podman answers some loads in plain JSON)
		}
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}
