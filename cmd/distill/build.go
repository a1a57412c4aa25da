package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/distill-build/distill"
	"github.com/distill-build/distill/internal/budget"
	"github.com/distill-build/distill/internal/cacheprune"
	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/platform"
	"github.com/distill-build/distill/internal/report"
)

// buildFlags are the flags of distill build.
type buildFlags struct {
	out        outputFlags
	tag        string
	envs       []string
	envFiles   []string
	bindings   []string
	builder    string
	reportJSON string
	reportHTML string
	cacheDir   string
	clearCache bool
	caFile     string
	noHostCA   bool
	compress   string
	maxSize    string
	sbomDir    string
	platforms  []string
}

func newBuildCommand() *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build [APP_DIR]",
		Short: "Build an app into an image and report its size layer by layer",
		Long: `Build the app in APP_DIR (default: the working directory) into an image.

Without -o, --daemon or --publish the image is loaded into the local podman or
docker (through DOCKER_HOST or its default socket) as the -t name, or, when no
daemon answers, written as an OCI layout under the user cache directory.
Nothing is written inside APP_DIR unless an output names a path there.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app := "."
			if len(args) == 1 {
				app = args[0]
			}
			return runBuild(cmd, app, f)
		},
	}
	fl := cmd.Flags()
	f.out.register(fl, "image")
	fl.StringVarP(&f.tag, "tag", "t", "", "image `NAME` for the default output (default: the app directory's name)")
	fl.StringArrayVarP(&f.envs, "env", "e", nil, "build-time environment variable `NAME=VALUE` (repeatable; NAME alone takes the current value)")
	fl.StringArrayVar(&f.envFiles, "env-file", nil, "build-time environment variables from `FILE` (NAME=VALUE lines)")
	fl.StringArrayVar(&f.bindings, "binding", nil, "service binding `DIR` (a type file plus secret files, e.g. type npmrc + .npmrc), or a directory of them as SERVICE_BINDING_ROOT holds; seen by buildpacks at /platform/bindings, never copied into the image (repeatable)")
	fl.StringVarP(&f.builder, "builder", "B", "", "builder.toml, or a builder image (REF or oci:DIR), to build with (default: the builder in this binary)")
	fl.StringVar(&f.reportJSON, "report-json", "", "also write the size report as JSON to `FILE`")
	fl.StringVar(&f.reportHTML, "report-html", "", "also write the size report as one self-contained HTML page to `FILE`: a treemap of the image (run image, layers, their directories and largest files) by compressed size, and the table")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "build cache `DIR` (default: one per app under the user cache directory)")
	fl.BoolVar(&f.clearCache, "clear-cache", false, "start from an empty build cache")
	fl.StringVar(&f.caFile, "ca-certs", defaultCAFile(), "PEM `FILE` of CAs the build trusts, passed as a ca-certificates binding; of this machine's own bundle, only the CAs it adds to its distribution's public ones (a TLS-intercepting proxy's, say)")
	fl.BoolVar(&f.noHostCA, "no-ca-certs", false, "do not pass any CA binding to the build")
	fl.StringVar(&f.compress, "compression", "", "layer compression: zstd (smallest; the default) or gzip (the default when loading into a daemon, which cannot save zstd layers again)")
	fl.StringVar(&f.maxSize, "max-size", "", "size budget: fail the build, writing nothing, when the image is over `SIZE` compressed (50MB, 1.5GB, 50MiB; default: project.toml [io.distill.build] max-size)")
	fl.StringVar(&f.sbomDir, "sbom-output-dir", "", "write the image's SBOMs (CycloneDX and SPDX 2.3 JSON) to `DIR`: each layer's, as pack sbom download lays them out, and the whole image's")
	fl.StringSliceVar(&f.platforms, "platform", nil, "build for `OS/ARCH` (linux/amd64, linux/arm64; comma-separated or repeated; default: this machine's). Several write one image index to -o oci: and --publish, and this machine's image (else the first) to --daemon and docker-archive:")
	return cmd
}

func runBuild(cmd *cobra.Command, app string, f buildFlags) error {
	env, err := parseEnv(f.envFiles, f.envs)
	if err != nil {
		return err
	}
	platforms, err := platform.ParsePlatforms(f.platforms)
	if err != nil {
		return err
	}
	out, err := buildOutputs(cmd.Context(), app, f.tag, f.out)
	if err != nil {
		return err
	}
	cacheAge, err := cacheprune.ParseMaxAge(os.Getenv(cacheprune.MaxAgeEnv))
	if err != nil {
		return err
	}
	if f.noHostCA {
		f.caFile = ""
	}
	compression, err := chooseCompression(f.compress, out.daemon)
	if err != nil {
		return err
	}
	bin, err := binary()
	if err != nil {
		return err
	}
	reps, err := platform.Build(cmd.Context(), platform.BuildOptions{
		AppDir: app, Platforms: platforms, Builder: f.builder, BuilderFiles: distill.BuilderFiles(), Binary: bin,
		Targets: out.targets, Env: env, EnvFiles: f.envFiles, Bindings: f.bindings, CacheDir: f.cacheDir, ClearCache: f.clearCache,
		CAFile: f.caFile, CASiteOnly: !cmd.Flags().Changed("ca-certs"), Compression: compression, MaxSize: f.maxSize, SBOMOutputDir: f.sbomDir, ReportHTML: f.reportHTML,
		Log: logWriter(cmd),
	})
	var over *budget.ExceededError
	if errors.As(err, &over) && f.reportJSON != "" {
		// No image, but the report of what was built (every platform's).
		if jerr := writeReportJSON(f.reportJSON, reps); jerr != nil {
			return errors.Join(err, jerr)
		}
	}
	if err != nil {
		return err
	}
	if err := reps.WriteText(cmd.OutOrStdout()); err != nil {
		return err
	}
	if f.reportJSON != "" {
		if err := writeReportJSON(f.reportJSON, reps); err != nil {
			return err
		}
	}
	fmt.Fprintln(cmd.OutOrStdout(), out.howToRun())
	pruneCache(cacheAge, logWriter(cmd))
	return nil
}

// pruneCache removes the user cache's entries unused for maxAge (unpacked
// build images, builders, other apps' build caches), saying what it freed.
// The image is written by then, so a failure is a warning.
func pruneCache(maxAge time.Duration, log io.Writer) {
	root := platform.CacheRoot()
	r, err := cacheprune.Prune(root, maxAge, time.Now())
	if r.Entries > 0 {
		age := maxAge.String()
		if maxAge%(24*time.Hour) == 0 {
			age = fmt.Sprintf("%d days", maxAge/(24*time.Hour))
		}
		fmt.Fprintf(log, "Removed %d cache entries of %s unused for %s (%.1f MB; %s=off keeps them)\n",
			r.Entries, root, age, float64(r.Bytes)/1e6, cacheprune.MaxAgeEnv)
	}
	if err != nil {
		fmt.Fprintf(log, "WARNING: pruning the cache: %v\n", err)
	}
}

func writeReportJSON(p string, rep report.Reports) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return f.Close()
}

// chooseCompression is the --compression value, else gzip when a daemon
// receives the image (a daemon cannot save zstd layers as a docker archive
// again, so podman save and the scanners that read through it would fail),
// else zstd.
func chooseCompression(flag string, daemon bool) (image.Compression, error) {
	if flag == "" {
		if daemon {
			return image.Gzip, nil
		}
		return image.Zstd, nil
	}
	c, err := image.ParseCompression(flag)
	if err != nil {
		return "", fmt.Errorf("--compression: %w", err)
	}
	return c, nil
}

// parseEnv reads --env-file files, then --env values (later wins), as pack does.
func parseEnv(files, pairs []string) (map[string]string, error) {
	env := map[string]string{}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("reading env file: %w", err)
		}
		s := bufio.NewScanner(f)
		for line := 1; s.Scan(); line++ {
			text := strings.TrimSpace(s.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			if err := addEnv(env, text); err != nil {
				f.Close()
				return nil, fmt.Errorf("%s:%d: %w", p, line, err)
			}
		}
		f.Close()
		if err := s.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
	}
	for _, kv := range pairs {
		if err := addEnv(env, kv); err != nil {
			return nil, fmt.Errorf("--env %q: %w", kv, err)
		}
	}
	return env, nil
}

func addEnv(env map[string]string, kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if k == "" {
		return fmt.Errorf("want NAME=VALUE")
	}
	if !ok {
		v, ok = os.LookupEnv(k)
		if !ok {
			return nil // pack skips unset variables named alone
		}
	}
	env[k] = v
	return nil
}

// defaultCAFile is the host's CA bundle, the one its TLS clients trust.
func defaultCAFile() string {
	for _, p := range []string{os.Getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
