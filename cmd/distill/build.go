package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/distill-build/distill/internal/image"
	"github.com/distill-build/distill/internal/platform"
)

func newBuildCommand() *cobra.Command {
	var (
		outputs    []string
		daemonTags []string
		publish    []string
		envs       []string
		envFiles   []string
		builderArg string
		reportJSON string
		cacheDir   string
		clearCache bool
		caFile     string
		noHostCA   bool
		compress   string
	)
	cmd := &cobra.Command{
		Use:   "build [APP_DIR]",
		Short: "Build an app into an image and report its size layer by layer",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app := "."
			if len(args) == 1 {
				app = args[0]
			}
			env, err := parseEnv(envFiles, envs)
			if err != nil {
				return err
			}
			targets, err := parseTargets(app, outputs, daemonTags, publish)
			if err != nil {
				return err
			}
			b, err := findBuilder(builderArg)
			if err != nil {
				return err
			}
			if noHostCA {
				caFile = ""
			}
			compression, err := image.ParseCompression(compress)
			if err != nil {
				return fmt.Errorf("--compression: %w", err)
			}
			rep, err := platform.Build(cmd.Context(), platform.BuildOptions{
				AppDir: app, Builder: b, Targets: targets, Env: env,
				CacheDir: cacheDir, ClearCache: clearCache, CAFile: caFile, Compression: compression, Log: cmd.ErrOrStderr(),
			})
			if err != nil {
				return err
			}
			if err := rep.WriteText(cmd.OutOrStdout()); err != nil {
				return err
			}
			if reportJSON != "" {
				f, err := os.Create(reportJSON)
				if err != nil {
					return err
				}
				defer f.Close()
				return rep.WriteJSON(f)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&outputs, "output", "o", nil, "write the image to `TARGET`: oci:DIR (default oci:./out/<app>), docker-archive:FILE")
	f.StringArrayVar(&daemonTags, "daemon", nil, "load the image into the Docker API (podman or docker) as `TAG`")
	f.StringArrayVar(&publish, "publish", nil, "push the image to a registry as `REF` (credentials from the docker config)")
	f.StringArrayVarP(&envs, "env", "e", nil, "build-time environment variable `NAME=VALUE` (repeatable; NAME alone takes the current value)")
	f.StringArrayVar(&envFiles, "env-file", nil, "build-time environment variables from `FILE` (NAME=VALUE lines)")
	f.StringVarP(&builderArg, "builder", "B", "", "builder.toml, or a builder image (REF or oci:DIR), to build with (default: the project's builder.toml)")
	f.StringVar(&reportJSON, "report-json", "", "also write the size report as JSON to `FILE`")
	f.StringVar(&cacheDir, "cache-dir", "", "build cache `DIR` (default: one per app under the user cache directory)")
	f.BoolVar(&clearCache, "clear-cache", false, "start from an empty build cache")
	f.StringVar(&caFile, "ca-certs", defaultCAFile(), "PEM `FILE` of CAs the build trusts, passed as a ca-certificates binding")
	f.BoolVar(&noHostCA, "no-ca-certs", false, "do not pass any CA binding to the build")
	f.StringVar(&compress, "compression", string(image.Zstd), "layer compression: zstd (smallest) or gzip (for Docker before 23)")
	return cmd
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

func parseTargets(app string, outputs, daemonTags, publish []string) ([]image.Target, error) {
	var targets []image.Target
	for _, o := range outputs {
		t, err := image.ParseTarget(o)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	for _, d := range daemonTags {
		tag, err := name.NewTag(d)
		if err != nil {
			return nil, fmt.Errorf("--daemon %q: %w", d, err)
		}
		targets = append(targets, image.Daemon(tag))
	}
	for _, p := range publish {
		ref, err := name.ParseReference(p)
		if err != nil {
			return nil, fmt.Errorf("--publish %q: %w", p, err)
		}
		targets = append(targets, image.Registry(ref))
	}
	if len(targets) == 0 {
		abs, err := filepath.Abs(app)
		if err != nil {
			return nil, err
		}
		targets = append(targets, image.OCILayout(filepath.Join("out", filepath.Base(abs))))
	}
	return targets, nil
}

// findBuilder returns the builder.toml to use: the flag, else the nearest
// builder.toml in the working directory or its parents (a distill checkout).
func findBuilder(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "builder.toml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no builder.toml in the working directory or its parents: pass --builder")
		}
		dir = parent
	}
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
