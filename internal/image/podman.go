package image

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/client"

	"github.com/distill-build/distill/internal/archive"
)

// libpodPath is the versioned prefix of podman's own API, which podman serves
// beside the Docker API on the same socket (podman 4.0 and later).
const libpodPath = "http://d/v4.0.0/libpod"

// podmanZstdError is how podman 4 refuses to save an image with zstd layers
// as a Docker archive. distill loads gzip into a daemon, but podman keeps an
// image by its ID (its config's digest): a gzip load of a build that was
// pulled before as zstd (from a registry or an OCI layout) only adds a tag to
// the zstd image.
const podmanZstdError = "zstd compression is not supported for docker images"

// fromPodman reads ref through podman's own API as an OCI archive, which
// carries any compression, when the daemon behind c is podman (ok is false
// otherwise). fromDaemon uses it where the Docker API fails with
// podmanZstdError.
//
// The archive is extracted into a temporary directory that is removed when
// the returned image and its layers are collected. A missing image is a *NotFoundError.
func fromPodman(ctx context.Context, c *client.Client, ref name.Reference, platform v1.Platform) (img v1.Image, ok bool, err error) {
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return c.Dialer()(ctx) },
	}}
	defer hc.CloseIdleConnections()
	if !isPodman(ctx, hc) {
		return nil, false, nil
	}
	u := libpodPath + "/images/" + url.PathEscape(podmanName(ref)) + "/get?format=oci-archive"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, true, fmt.Errorf("reading %s from podman: %w", ref, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("reading %s from podman at %s: %w", ref, DaemonHost(), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, true, &NotFoundError{Ref: ref.String(), Where: "daemon " + DaemonHost()}
	case resp.StatusCode != http.StatusOK:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, true, fmt.Errorf("reading %s from podman at %s: %s: %s", ref, DaemonHost(), resp.Status, strings.TrimSpace(string(msg)))
	}
	img, err = extractedLayout(ctx, ref, resp.Body, platform)
	return img, true, err
}

// podmanName is ref as podman names images: Docker Hub is docker.io, not
// go-containerregistry's index.docker.io.
func podmanName(ref name.Reference) string {
	n := ref.Name()
	if ref.Context().RegistryStr() == name.DefaultRegistry {
		n = "docker.io/" + strings.TrimPrefix(n, name.DefaultRegistry+"/")
	}
	return n
}

// isPodman reports whether podman's own API answers its ping.
func isPodman(ctx context.Context, hc *http.Client) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, libpodPath+"/_ping", nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// tempDir is a temporary directory removed when it is collected (an image
// and every layer read from it hold it, so it stays while any is reachable)
// or by RemoveTemporaries, whichever comes first.
type tempDir struct{ path string }

// temporaries are the tempDirs not removed yet.
var temporaries = struct {
	sync.Mutex
	paths map[string]bool
}{paths: map[string]bool{}}

func newTempDir(pattern string) (*tempDir, error) {
	p, err := os.MkdirTemp("", pattern)
	if err != nil {
		return nil, err
	}
	temporaries.Lock()
	temporaries.paths[p] = true
	temporaries.Unlock()
	d := &tempDir{path: p}
	runtime.AddCleanup(d, removeTemporary, p)
	return d, nil
}

func removeTemporary(p string) {
	os.RemoveAll(p)
	temporaries.Lock()
	delete(temporaries.paths, p)
	temporaries.Unlock()
}

// RemoveTemporaries removes the temporary files of images read from a daemon
// (a collector may never run before a command exits). Images read before it
// is called must not be used after.
func RemoveTemporaries() {
	temporaries.Lock()
	paths := make([]string, 0, len(temporaries.paths))
	for p := range temporaries.paths {
		paths = append(paths, p)
	}
	temporaries.Unlock()
	for _, p := range paths {
		removeTemporary(p)
	}
}

// tempImage is an image whose files live in dir.
type tempImage struct {
	v1.Image
	dir *tempDir
}

func (i *tempImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	for n, l := range ls {
		ls[n] = &tempLayer{Layer: l, dir: i.dir}
	}
	return ls, err
}

func (i *tempImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return &tempLayer{Layer: l, dir: i.dir}, nil
}

func (i *tempImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDiffID(h)
	if err != nil {
		return nil, err
	}
	return &tempLayer{Layer: l, dir: i.dir}, nil
}

// tempLayer is a layer whose blob lives in dir.
type tempLayer struct {
	v1.Layer
	dir *tempDir
}

// extractedLayout extracts the OCI archive r (a tar of an OCI image layout)
// into a temporary directory and reads the image for platform from it.
func extractedLayout(ctx context.Context, ref name.Reference, r io.Reader, platform v1.Platform) (v1.Image, error) {
	dir, err := newTempDir("distill-podman-*")
	if err != nil {
		return nil, fmt.Errorf("reading %s from podman: %w", ref, err)
	}
	if err := archive.Extract(ctx, "the OCI archive of "+ref.String(), r, dir.path); err != nil {
		return nil, fmt.Errorf("reading %s from podman: %w", ref, err)
	}
	img, err := readLayout(dir.path, platform)
	if err != nil {
		return nil, fmt.Errorf("reading %s from podman: %w", ref, err)
	}
	return &tempImage{Image: img, dir: dir}, nil
}
