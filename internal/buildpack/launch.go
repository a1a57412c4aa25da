package buildpack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// LaunchMetadata is <layers>/launch.toml.
type LaunchMetadata struct {
	Processes []Process `toml:"processes" json:"processes"`
	Labels    []Label   `toml:"labels" json:"labels,omitempty"`
}

// Label is an image label contributed by a buildpack.
type Label struct {
	Key   string `toml:"key" json:"key"`
	Value string `toml:"value" json:"value"`
}

// Process is a [[processes]] entry. Command is an array from Buildpack API
// 0.9 on and a string before; both are accepted.
type Process struct {
	Type             string   `toml:"type" json:"type"`
	Command          Command  `toml:"command" json:"command"`
	Args             []string `toml:"args" json:"args"`
	Direct           *bool    `toml:"direct" json:"direct,omitempty"`
	Default          bool     `toml:"default" json:"default,omitempty"`
	WorkingDirectory string   `toml:"working-dir" json:"working-dir,omitempty"`
	BuildpackID      string   `toml:"-" json:"buildpackID"`
}

// IsDirect reports whether the process runs without a shell (the default from API 0.9 on).
func (p Process) IsDirect() bool { return p.Direct == nil || *p.Direct }

// Command is a process command line.
type Command []string

// UnmarshalTOML accepts a string or an array of strings.
func (c *Command) UnmarshalTOML(v any) error {
	switch t := v.(type) {
	case string:
		*c = Command{t}
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("command entries must be strings, got %T", e)
			}
			*c = append(*c, s)
		}
	default:
		return fmt.Errorf("command must be a string or an array of strings, got %T", v)
	}
	return nil
}

// UnmarshalJSON accepts a string (Platform API < 0.10 build metadata) or an
// array of strings.
func (c *Command) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*c = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("command must be a string or an array of strings: %s", b)
	}
	*c = Command{s}
	return nil
}

// ReadLaunch reads launch.toml from a buildpack's layers directory; a missing file is empty.
func ReadLaunch(layersDir string) (LaunchMetadata, error) {
	var lm LaunchMetadata
	p := filepath.Join(layersDir, "launch.toml")
	if _, err := toml.DecodeFile(p, &lm); err != nil && !os.IsNotExist(err) {
		return lm, fmt.Errorf("reading %s: %w", p, err)
	}
	return lm, nil
}
