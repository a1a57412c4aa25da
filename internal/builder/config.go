// Package builder reads builder.toml (the same file pack builder create
// takes), prepares its buildpacks and extensions, and resolves its build and
// run images.
package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/distill-build/distill/internal/buildpack"
)

// Config is builder.toml.
type Config struct {
	Description     string             `toml:"description,omitempty"`
	Buildpacks      []ModuleConfig     `toml:"buildpacks"`
	Extensions      []ModuleConfig     `toml:"extensions,omitempty"`
	Order           buildpack.Order    `toml:"order"`
	OrderExtensions buildpack.Order    `toml:"order-extensions,omitempty"`
	Build           BuildConfig        `toml:"build"`
	Run             RunConfig          `toml:"run"`
	Stack           StackConfig        `toml:"stack,omitempty"`
	Lifecycle       LifecycleConfig    `toml:"lifecycle,omitempty"`
	Targets         []buildpack.Target `toml:"targets,omitempty"`

	// Path is the file the config was read from; relative URIs resolve against its directory.
	Path string `toml:"-"`
}

// ModuleConfig is a [[buildpacks]] or [[extensions]] entry.
type ModuleConfig struct {
	ID      string `toml:"id,omitempty"`
	Version string `toml:"version,omitempty"`
	URI     string `toml:"uri"`
}

// BuildConfig is [build].
type BuildConfig struct {
	Image string      `toml:"image"`
	Env   []EnvConfig `toml:"env,omitempty"`
}

// EnvConfig is a [[build.env]] entry.
type EnvConfig struct {
	Name  string `toml:"name"`
	Value string `toml:"value"`
}

// RunConfig is [run].
type RunConfig struct {
	Images []RunImage `toml:"images"`
}

// RunImage is a [[run.images]] entry, also the shape of run.toml's [[images]].
type RunImage struct {
	Image   string   `toml:"image" json:"image"`
	Mirrors []string `toml:"mirrors,omitempty" json:"mirrors,omitempty"`
}

// StackConfig is [stack], read by stack-era platforms (Platform API 0.9).
type StackConfig struct {
	ID         string `toml:"id,omitempty"`
	BuildImage string `toml:"build-image,omitempty"`
	RunImage   string `toml:"run-image,omitempty"`
}

// LifecycleConfig is [lifecycle].
type LifecycleConfig struct {
	URI     string `toml:"uri,omitempty"`
	Version string `toml:"version,omitempty"`
}

// ReadConfig reads and validates builder.toml (see ParseConfig). A missing
// file is an error saying so.
func ReadConfig(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("builder config %s does not exist", path)
		}
		return nil, fmt.Errorf("reading builder config %s: %w", path, err)
	}
	return ParseConfig(abs, data)
}

// ParseConfig parses and validates the content of the builder.toml at path,
// an absolute path that relative uris resolve against. Errors name path: a
// TOML syntax error, an unknown field, or what a build needs and the config
// lacks (a build image, a run image, an order of groups naming modules by id,
// a uri for every module).
func ParseConfig(path string, data []byte) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return nil, fmt.Errorf("reading builder config %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return nil, fmt.Errorf("%s: unknown field %q", path, undecoded[0].String())
	}
	c.Path = path
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

func (c *Config) validate() error {
	if c.Build.Image == "" {
		return fmt.Errorf("[build] image is required")
	}
	if len(c.Run.Images) == 0 && c.Stack.RunImage == "" {
		return fmt.Errorf("[[run.images]] needs at least one image")
	}
	for i, r := range c.Run.Images {
		if r.Image == "" {
			return fmt.Errorf("[[run.images]] #%d: image is required", i+1)
		}
	}
	if len(c.Order) == 0 {
		return fmt.Errorf("[[order]] needs at least one group")
	}
	for name, order := range map[string]buildpack.Order{"order": c.Order, "order-extensions": c.OrderExtensions} {
		if err := checkGroups(name, order); err != nil {
			return err
		}
	}
	for i, bp := range c.Buildpacks {
		if bp.URI == "" {
			return fmt.Errorf("[[buildpacks]] #%d: uri is required", i+1)
		}
	}
	for i, ext := range c.Extensions {
		if ext.URI == "" {
			return fmt.Errorf("[[extensions]] #%d: uri is required", i+1)
		}
	}
	return nil
}

// checkGroups requires every group of [[name]] to name at least one module, each by id.
func checkGroups(name string, order buildpack.Order) error {
	for i, g := range order {
		if len(g.Group) == 0 {
			return fmt.Errorf("[[%s]] #%d: the group is empty: list its members as [[%s.group]] entries with an id", name, i+1, name)
		}
		for j, ref := range g.Group {
			if strings.TrimSpace(ref.ID) == "" {
				return fmt.Errorf("[[%s]] #%d: [[%s.group]] #%d: id is required", name, i+1, name, j+1)
			}
		}
	}
	return nil
}

// RunImages lists the run images, the default first.
func (c *Config) RunImages() []RunImage {
	if len(c.Run.Images) > 0 {
		return c.Run.Images
	}
	return []RunImage{{Image: c.Stack.RunImage}}
}

// Resolve returns uri as an absolute path when it is a relative or file:// path.
func (c *Config) Resolve(uri string) string {
	if len(uri) > 7 && uri[:7] == "file://" {
		uri = uri[7:]
	}
	if filepath.IsAbs(uri) {
		return uri
	}
	return filepath.Join(filepath.Dir(c.Path), uri)
}

// IsConfigFile reports whether ref names a builder.toml (an existing file or
// a *.toml path) rather than a builder image.
func IsConfigFile(ref string) bool {
	if strings.HasSuffix(ref, ".toml") {
		return true
	}
	fi, err := os.Stat(ref)
	return err == nil && fi.Mode().IsRegular()
}
