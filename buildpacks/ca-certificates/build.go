package cacerts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/buildpacks/libcnb/v2"
	"github.com/paketo-buildpacks/libpak/v2/log"
)

const (
	// DefaultSystemBundle is the build image's CA bundle (Debian's ca-certificates).
	DefaultSystemBundle = "/etc/ssl/certs/ca-certificates.crt"
	// LayerName is the layer holding the bundle.
	LayerName = "ca-certificates"
	// BundleFile is the bundle's file name inside the layer.
	BundleFile = "ca-certificates.crt"
)

// EnvVars are pointed at the bundle, with override semantics.
var EnvVars = []string{
	"SSL_CERT_FILE",
	"NODE_EXTRA_CA_CERTS",
	"PIP_CERT",
	"REQUESTS_CA_BUNDLE",
	"CURL_CA_BUNDLE",
	"GIT_SSL_CAINFO",
	"npm_config_cafile",
}

// Builder writes the CA bundle layer.
type Builder struct {
	Logger       log.Logger
	SystemBundle string // path of the build image's bundle; missing is fine
}

func (b Builder) Build(ctx libcnb.BuildContext) (libcnb.BuildResult, error) {
	if b.Logger == nil {
		b.Logger = log.NewPaketoLogger(os.Stdout)
	}
	result := libcnb.NewBuildResult()
	b.Logger.Titlef("%s %s", ctx.Buildpack.Info.Name, ctx.Buildpack.Info.Version)

	embed := embedCerts(ctx.Platform.Environment)
	certs, err := readBindingCerts(caBindings(ctx.Platform.Bindings))
	if err != nil {
		return result, err
	}

	var bundle bytes.Buffer
	if b.SystemBundle != "" {
		sys, err := os.ReadFile(b.SystemBundle)
		switch {
		case err == nil:
			bundle.Write(sys)
			if len(sys) > 0 && sys[len(sys)-1] != '\n' {
				bundle.WriteByte('\n')
			}
			b.Logger.Bodyf("System bundle %s: %d certificates", b.SystemBundle, len(derSet(sys)))
		case os.IsNotExist(err):
			b.Logger.Bodyf("No system bundle at %s: the bundle holds only the bound certificates", b.SystemBundle)
		default:
			return result, fmt.Errorf("unable to read %s: %w", b.SystemBundle, err)
		}
	}
	seen := derSet(bundle.Bytes())
	added, trusted := 0, 0
	var names []string
	for _, c := range certs {
		if seen[string(c.Block.Bytes)] {
			trusted++
			continue
		}
		seen[string(c.Block.Bytes)] = true
		fmt.Fprintf(&bundle, "# %s: %s\n", c.Source, c.Cert.Subject)
		if err := pem.Encode(&bundle, c.Block); err != nil {
			return result, err
		}
		added++
		names = append(names, c.Source+": "+c.Cert.Subject.String())
	}
	for _, line := range addedLines(names) {
		b.Logger.Body(line)
	}
	if trusted > 0 {
		b.Logger.Bodyf("%d bound certificate(s) already in the system bundle", trusted)
	}

	layer, err := ctx.Layers.Layer(LayerName)
	if err != nil {
		return result, err
	}
	if layer, err = layer.Reset(); err != nil {
		return result, err
	}
	file := filepath.Join(layer.Path, BundleFile)
	if err := os.WriteFile(file, bundle.Bytes(), 0o644); err != nil {
		return result, fmt.Errorf("unable to write %s: %w", file, err)
	}
	sum := sha256.Sum256(bundle.Bytes())
	layer.LayerTypes = libcnb.LayerTypes{Build: true, Launch: embed}
	layer.Metadata = map[string]interface{}{"sha256": hex.EncodeToString(sum[:]), "added": added}

	env := layer.BuildEnvironment // env.build: later buildpacks' build processes
	where := "at build time"
	if embed {
		env = layer.SharedEnvironment // env: build and launch
		where = "at build and launch time (BP_EMBED_CERTS)"
	}
	for _, name := range EnvVars {
		env.Override(name, file)
	}
	b.Logger.Bodyf("Added %d certificate(s) to %s; %s point there %s", added, file, "SSL_CERT_FILE and friends", where)

	result.Layers = append(result.Layers, layer)
	return result, nil
}

// shownCerts is how many added certificates the log names one by one; a
// host bundle passed whole (distill's default --ca-certs) adds dozens.
const shownCerts = 3

// addedLines are the log lines for the added certificates names ("source:
// subject"): each of them when they are few, else the first shownCerts and
// how many more.
func addedLines(names []string) []string {
	if len(names) <= shownCerts {
		return names
	}
	return []string{fmt.Sprintf("%d certificates not in the system bundle, e.g. %s (and %d more)",
		len(names), strings.Join(names[:shownCerts], "; "), len(names)-shownCerts)}
}
