package image

import (
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/daemon"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option configures targets (OCILayout, DockerArchive, Registry, Daemon) and Resolve.
type Option func(*options)

type options struct {
	refName  string
	keychain authn.Keychain
	remote   []remote.Option
	client   daemon.Client
	platform v1.Platform
	store    *Store
	sources  []Source
}

func makeOptions(opts ...Option) options {
	o := options{
		keychain: authn.DefaultKeychain,
		platform: v1.Platform{OS: "linux", Architecture: runtime.GOARCH},
		sources:  []Source{FromStore, FromDaemon, FromRegistry},
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithRefName sets the name recorded with the image: the
// org.opencontainers.image.ref.name annotation of an OCI layout (default
// "latest") or the repository tag of a docker archive (default: none).
func WithRefName(ref string) Option {
	return func(o *options) { o.refName = ref }
}

// WithKeychain replaces authn.DefaultKeychain (the docker config's credentials)
// for registry access.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) { o.keychain = k }
}

// WithRemoteOptions passes extra options to go-containerregistry's remote
// package (transport, retries, progress).
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(o *options) { o.remote = append(o.remote, opts...) }
}

// WithDaemonClient replaces the Docker API client (see DaemonClient).
func WithDaemonClient(c daemon.Client) Option {
	return func(o *options) { o.client = c }
}

// WithPlatform selects the platform of multi-platform images (default linux/GOARCH).
func WithPlatform(p v1.Platform) Option {
	return func(o *options) { o.platform = p }
}

// WithStore sets the local store Resolve looks in (default: none; see OpenStore).
func WithStore(s *Store) Option {
	return func(o *options) { o.store = s }
}

// WithSources picks which sources Resolve asks, in order.
func WithSources(src ...Source) Option {
	return func(o *options) { o.sources = src }
}
