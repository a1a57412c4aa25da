// Package berry knows Yarn Berry (Yarn 2 and newer) projects: .yarnrc.yml, the lock file's
// format, how to prune an install to production on every release line, and Plug'n'Play (the
// .pnp.cjs loader and the zip cache a PnP app runs from).
package berry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"
)

// Linkers: how Yarn lays out the installed packages (nodeLinker in .yarnrc.yml).
const (
	LinkerPnP         = "pnp"
	LinkerNodeModules = "node-modules"
	LinkerPnpm        = "pnpm"
)

// Config is what the buildpack reads from .yarnrc.yml.
type Config struct {
	NodeLinker string   `yaml:"nodeLinker"`
	YarnPath   string   `yaml:"yarnPath"`
	Plugins    []Plugin `yaml:"plugins"`
}

// Plugin is one entry of "plugins": a path, or {path, spec}.
type Plugin struct {
	Path string `yaml:"path"`
	Spec string `yaml:"spec"`
}

// UnmarshalYAML accepts the short form (a plain path) as well as the mapping.
func (p *Plugin) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Path = n.Value
		return nil
	}
	type plain Plugin
	return n.Decode((*plain)(p))
}

// ReadConfig reads <appDir>/.yarnrc.yml; a project without one has Yarn's defaults.
func ReadConfig(appDir string) (Config, error) {
	p := filepath.Join(appDir, ".yarnrc.yml")
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("reading %s: %w", p, err)
	}
	var c Config
	if err := yaml.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("%s is not valid YAML (fix it; Yarn would refuse it too): %w", p, err)
	}
	return c, nil
}

// Linker is the effective nodeLinker: env (YARN_NODE_LINKER) wins over .yarnrc.yml, and Yarn
// Berry's default is Plug'n'Play.
func (c Config) Linker(env string) string {
	for _, v := range []string{env, c.NodeLinker} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return LinkerPnP
}

// HasWorkspaceTools reports whether the project imports the workspace-tools plugin, which gives
// Yarn 2 and 3 the `workspaces focus` command.
func (c Config) HasWorkspaceTools() bool {
	for _, p := range c.Plugins {
		if strings.Contains(p.Path+" "+p.Spec, "workspace-tools") {
			return true
		}
	}
	return false
}

// CanFocus reports whether `yarn workspaces focus` exists for this Yarn: built in from Yarn 4, a
// plugin before. version is the Yarn release ("" or unparsable when unknown, e.g. yarnPath).
func (c Config) CanFocus(version string) bool {
	if c.HasWorkspaceTools() {
		return true
	}
	v, err := semver.NewVersion(version)
	return err == nil && v.Major() >= 4
}
